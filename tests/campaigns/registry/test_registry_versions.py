"""One source of truth: versions on every change, stale saves refused, and a campaigns file
that never silently undoes an edit made since it was last loaded; export loads back unchanged."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from campaigns.audit.models import AuditEntry
from campaigns.audit.service import Actor, Interface
from campaigns.registry.changes import FileConflicts, StaleVersion
from campaigns.registry.documents import document
from campaigns.registry.export import collect, write
from campaigns.registry.models import Campaign
from campaigns.registry.schemas import CampaignSpec
from campaigns.registry.service import get_campaign, load_file, save_campaign
from outreach.core.context import AppContext
from outreach.core.db import make_engine, make_session_factory, upgrade_schema
from tests.support.app import DEMO_FILE

ALICE = Actor("alice", Interface.BROWSER)
FLYER = "AZ-FLYER-BAKU-2027"


def copy_demo(tmp_path: Path) -> Path:
    target = tmp_path / "demo"
    shutil.copytree(DEMO_FILE.parent, target)
    return target / "campaigns.yaml"


def edit(ctx: AppContext, code: str, actor: Actor = ALICE, **changes: Any) -> int:
    """Saves a campaign's document with changes, as the browser does; returns the new version."""
    with ctx.sessions.begin() as session:
        row = get_campaign(session, code)
        assert row is not None
        spec = CampaignSpec.model_validate({**document(row), **changes})
        saved = save_campaign(
            session, spec, flows_root=None, default_timezone="Asia/Baku", actor=actor, existing=row
        )
        return saved.version


def documents(ctx: AppContext) -> dict[str, dict[str, Any]]:
    with ctx.sessions() as session:
        rows = session.scalars(select(Campaign).order_by(Campaign.code))
        return {row.code: document(row) for row in rows}


def audit_count(ctx: AppContext) -> int:
    with ctx.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


def test_every_change_raises_the_version_and_a_no_op_does_not(loaded: AppContext) -> None:
    assert documents(loaded)[FLYER]["version"] == 1
    assert edit(loaded, FLYER, name="Flyers, second print") == 2
    assert edit(loaded, FLYER) == 2
    assert edit(loaded, FLYER, replies={**documents(loaded)[FLYER]["replies"], "en": "Hi"}) == 3


def test_a_save_based_on_an_older_version_is_refused_and_changes_nothing(
    loaded: AppContext,
) -> None:
    edit(loaded, FLYER, name="Changed by alice")
    with pytest.raises(StaleVersion) as stale:
        edit(loaded, FLYER, Actor("bob", Interface.API), name="Bob's name", version=1)
    message = str(stale.value)
    assert "alice through the browser" in message and "version 1" in message
    assert documents(loaded)[FLYER]["name"] == "Changed by alice"


def test_a_file_never_silently_undoes_an_edit_made_since_its_last_load(
    loaded: AppContext,
) -> None:
    edit(loaded, FLYER, name="Renamed in the browser")
    before = documents(loaded)
    with loaded.sessions.begin() as session, pytest.raises(FileConflicts) as refused:
        load_file(session, DEMO_FILE)
    [conflict] = refused.value.conflicts
    text = str(conflict)
    assert conflict.code == FLYER and conflict.fields == ["name"]
    assert FLYER in text and "alice through the browser" in text and "--force" in text
    assert documents(loaded) == before


def test_force_overwrites_the_edit_and_says_so_in_the_audit_log(loaded: AppContext) -> None:
    edit(loaded, FLYER, name="Renamed in the browser")
    with loaded.sessions.begin() as session:
        result = load_file(session, DEMO_FILE, force=True)
    assert result.updated == [FLYER]
    assert documents(loaded)[FLYER]["name"].startswith("20,000 flyers")
    with loaded.sessions() as session:
        last = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert last is not None and last.action == "load" and last.target == FLYER
        assert last.before == {"name": "Renamed in the browser"}


def test_once_reloaded_or_agreed_with_the_file_may_change_the_campaign_again(
    loaded: AppContext, tmp_path: Path
) -> None:
    path = copy_demo(tmp_path)
    edit(loaded, FLYER, region="Sumqayit")
    # The file agrees with the edit: it loads, and it is the file's state again.
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "    region: Baku\n    languages: [az, ru, en]\n    start: 2027-01-01",
            "    region: Sumqayit\n    languages: [az, ru, en]\n    start: 2027-01-01",
        ),
        encoding="utf-8",
    )
    with loaded.sessions.begin() as session:
        assert FLYER in load_file(session, path).unchanged
    path.write_text(path.read_text(encoding="utf-8").replace("Sumqayit", "Ganja"), "utf-8")
    with loaded.sessions.begin() as session:
        assert load_file(session, path).updated == [FLYER]


def test_export_then_load_changes_nothing(loaded: AppContext, tmp_path: Path) -> None:
    edit(loaded, FLYER, name="Edited before the export")
    before, entries = documents(loaded), audit_count(loaded)
    target = tmp_path / "export" / "campaigns.yaml"
    target.parent.mkdir()
    with loaded.sessions() as session:
        copied = write(collect(session, loaded.settings), target)
    assert {p.relative_to(target.parent).as_posix() for p in copied} == {
        "flows/radio.yaml",
        "flows/hotline.yaml",
    }
    with loaded.sessions.begin() as session:
        result = load_file(session, target)
    assert result.created == result.updated == []
    assert documents(loaded) == before
    assert audit_count(loaded) == entries


def test_an_export_loads_into_an_empty_database_as_the_same_campaigns(
    loaded: AppContext, tmp_path: Path
) -> None:
    edit(loaded, FLYER, name="Edited before the export")
    target = tmp_path / "export" / "campaigns.yaml"
    target.parent.mkdir()
    with loaded.sessions() as session:
        write(collect(session, loaded.settings), target)
    engine = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    upgrade_schema(engine)
    fresh = AppContext(
        settings=loaded.settings, engine=engine, sessions=make_session_factory(engine)
    )
    with fresh.sessions.begin() as session:
        load_file(session, target)
    unversioned = {
        code: {k: v for k, v in doc.items() if k != "version"}
        for code, doc in documents(loaded).items()
    }
    assert {
        code: {k: v for k, v in doc.items() if k != "version"}
        for code, doc in documents(fresh).items()
    } == unversioned
    engine.dispose()
