"""Configuration: secrets are required outside demo mode; the demo keeps its own, and a demo
secrets file left beside a database stops a production start."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from cryptography.fernet import Fernet
from typer.testing import CliRunner

from outreach.app import create_app
from outreach.cli import app as cli
from outreach.cli.service import cli_settings
from outreach.core.db import SchemaError
from outreach.core.settings import ConfigError, Settings
from tests.support.app import make_settings


def test_missing_secrets_stop_start_up_with_their_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("OUTREACH_HASH_KEY", "TWILIO_AUTH_TOKEN", "OUTREACH_ENCRYPTION_KEY"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(database_url=f"sqlite:///{tmp_path}/x.db")
    with pytest.raises(ConfigError) as info:
        settings.ensure_secrets()
    assert "OUTREACH_HASH_KEY" in str(info.value) and "TWILIO_AUTH_TOKEN" in str(info.value)


def test_demo_generates_secrets_once_beside_its_database(tmp_path: Path) -> None:
    first = Settings(database_url=f"sqlite:///{tmp_path}/demo.db", demo=True).ensure_secrets()
    second = Settings(database_url=f"sqlite:///{tmp_path}/demo.db", demo=True).ensure_secrets()
    assert first.hash_key and first.twilio_auth_token and first.encryption_key
    assert (first.hash_key, first.encryption_key) == (second.hash_key, second.encryption_key)
    secrets_file = tmp_path / "outreach.secrets.json"
    assert secrets_file.exists() and oct(secrets_file.stat().st_mode & 0o777) == "0o600"


def test_environment_configures_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTREACH_PUBLIC_URL", "https://hotline.example.az")
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "tok")
    monkeypatch.setenv("OUTREACH_DATABASE_URL", "sqlite:///elsewhere.db")
    settings = Settings()
    assert settings.public_url == "https://hotline.example.az"
    assert settings.twilio_auth_token == "tok"
    assert settings.database_url == "sqlite:///elsewhere.db"


def test_unreachable_database_refuses_to_start_with_a_clear_message(tmp_path: Path) -> None:
    settings = make_settings(f"sqlite:///{tmp_path}/missing-dir/sub/x.db")
    with pytest.raises(SchemaError) as info:
        create_app(settings, start_background=False)
    assert "could not upgrade the database schema" in str(info.value)


def _serve(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> Any:
    """Runs `outreach serve` with this environment; uvicorn is replaced by a recorder."""
    for name in list(os.environ):
        if name.startswith(("OUTREACH_", "TWILIO_")) and name != "OUTREACH_TEST_POSTGRES_URL":
            monkeypatch.delenv(name)
    root = logging.getLogger()  # the command sets up logging on a stderr that then closes
    monkeypatch.setattr(root, "handlers", list(root.handlers))
    monkeypatch.setattr(root, "level", root.level)
    started: list[object] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: started.append(app))
    env = {"OUTREACH_DATABASE_URL": f"sqlite:///{tmp_path}/outreach.db", "COLUMNS": "400", **env}
    result = CliRunner().invoke(cli, ["serve"], env=env)
    return result, started


def _production_env() -> dict[str, str]:
    return {
        "OUTREACH_HASH_KEY": "prod-hash-key",
        "OUTREACH_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "OUTREACH_SESSION_SECRET": "prod-session-secret",
        "TWILIO_AUTH_TOKEN": "prod-token",
    }


@pytest.mark.parametrize("env", [{}, _production_env()], ids=["no-secrets", "all-secrets"])
def test_a_stale_demo_secrets_file_stops_a_production_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env: dict[str, str]
) -> None:
    Settings(database_url=f"sqlite:///{tmp_path}/outreach.db", demo=True).ensure_secrets()
    stale = tmp_path / "outreach.secrets.json"
    assert stale.exists()
    result, started = _serve(tmp_path, monkeypatch, env)
    assert started == []  # never served in demo mode (nor with the demo's database)
    assert result.exit_code == 3, result.output  # refused to start
    said = result.output.replace("\n", "")
    assert str(stale) in said and "OUTREACH_DEMO" in said and "delete that file" in said


def test_without_a_demo_secrets_file_production_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result, started = _serve(tmp_path, monkeypatch, _production_env())
    assert result.exit_code == 0, result.output
    assert len(started) == 1


def test_settings_outside_demo_mode_refuse_a_demo_secrets_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/outreach.db"
    Settings(database_url=url, demo=True).ensure_secrets()
    with pytest.raises(ConfigError, match=r"outreach\.secrets\.json"):
        make_settings(url).ensure_secrets()  # every secret set: still refused


def test_client_commands_still_find_a_running_demos_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TWILIO_AUTH_TOKEN", raising=False)
    url = f"sqlite:///{tmp_path}/outreach.db"
    demo = Settings(database_url=url, demo=True).ensure_secrets()
    client = cli_settings(database_url=url)  # as `outreach text` reads them
    assert client.demo and client.twilio_auth_token == demo.twilio_auth_token


@pytest.mark.parametrize(
    ("event_loop", "workers", "runs"),
    [
        ("auto", 1, "asyncio"),  # one process: the loop that stays fair under a burst
        ("auto", 2, "auto"),  # shared socket: uvicorn's auto (uvloop) spreads the accepts
        ("uvloop", 1, "uvloop"),
        ("asyncio", 4, "asyncio"),
    ],
)
def test_serve_runs_the_loop_its_process_count_needs(
    tmp_path: Path, event_loop: str, workers: int, runs: str
) -> None:
    settings = make_settings(
        f"sqlite:///{tmp_path}/o.db", event_loop=event_loop, web_workers=workers
    )
    assert settings.serve_loop() == runs
