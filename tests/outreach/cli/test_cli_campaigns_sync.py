"""`outreach campaigns load|export`: a file never silently undoes an edit; export loads back."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from campaigns.audit.service import Actor, Interface
from campaigns.registry.documents import document
from campaigns.registry.schemas import CampaignSpec
from campaigns.registry.service import get_campaign, save_campaign
from outreach.cli import app
from outreach.core.context import AppContext
from tests.support.app import DEMO_FILE

FLYER = "AZ-FLYER-BAKU-2027"


@pytest.fixture
def env(loaded: AppContext, monkeypatch: pytest.MonkeyPatch) -> AppContext:
    for name, value in {
        "OUTREACH_DATABASE_URL": loaded.settings.database_url,
        "OUTREACH_HASH_KEY": loaded.settings.hash_key,
        "OUTREACH_SESSION_SECRET": loaded.settings.session_secret,
        "OUTREACH_ENCRYPTION_KEY": loaded.settings.encryption_key,
        "TWILIO_AUTH_TOKEN": loaded.settings.twilio_auth_token,
    }.items():
        monkeypatch.setenv(name, value)
    return loaded


def rename_in_browser(ctx: AppContext, name: str) -> None:
    with ctx.sessions.begin() as session:
        row = get_campaign(session, FLYER)
        assert row is not None
        spec = CampaignSpec.model_validate({**document(row), "name": name})
        save_campaign(
            session,
            spec,
            flows_root=None,
            default_timezone="Asia/Baku",
            actor=Actor("alice", Interface.BROWSER),
            existing=row,
        )


def name_of(ctx: AppContext) -> str:
    with ctx.sessions() as session:
        row = get_campaign(session, FLYER)
        assert row is not None
        return row.name


def test_load_refuses_to_undo_a_browser_edit_naming_the_campaign_and_the_change(
    env: AppContext,
) -> None:
    rename_in_browser(env, "Renamed by alice")
    result = CliRunner().invoke(app, ["campaigns", "load", str(DEMO_FILE)])
    assert result.exit_code == 1, result.output
    output = " ".join(result.output.split())
    assert FLYER in output and "alice through the browser" in output
    assert "would change name" in output and "--force" in output
    assert name_of(env) == "Renamed by alice"


def test_load_with_force_overwrites_the_edit(env: AppContext) -> None:
    rename_in_browser(env, "Renamed by alice")
    result = CliRunner().invoke(app, ["campaigns", "load", "--force", str(DEMO_FILE)])
    assert result.exit_code == 0, result.output
    assert "1 updated" in result.output
    assert name_of(env).startswith("20,000 flyers")


def test_load_keeping_edits_warns_keeps_the_edit_and_exits_0(env: AppContext) -> None:
    """compose.yaml's start-up step: a browser edit must neither be undone nor stop the start."""
    rename_in_browser(env, "Renamed by alice")
    result = CliRunner().invoke(app, ["campaigns", "load", "--keep-edits", str(DEMO_FILE)])
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert FLYER in output and "the file was not applied" in output
    assert name_of(env) == "Renamed by alice"


def test_force_and_keep_edits_together_are_refused(env: AppContext) -> None:
    args = ["campaigns", "load", "--force", "--keep-edits", str(DEMO_FILE)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert name_of(env).startswith("20,000 flyers")


def test_export_writes_a_file_that_loads_back_changing_nothing(
    env: AppContext, tmp_path: Path
) -> None:
    rename_in_browser(env, "Renamed by alice")
    target = tmp_path / "out" / "campaigns.yaml"
    target.parent.mkdir()
    exported = CliRunner().invoke(app, ["campaigns", "export", str(target)])
    assert exported.exit_code == 0, exported.output
    assert (target.parent / "flows" / "radio.yaml").exists()
    loaded = CliRunner().invoke(app, ["campaigns", "load", str(target)])
    assert loaded.exit_code == 0, loaded.output
    assert "0 created, 0 updated, 7 unchanged" in loaded.output
    assert name_of(env) == "Renamed by alice"
