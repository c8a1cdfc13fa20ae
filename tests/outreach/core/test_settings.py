"""Configuration: secrets are required outside demo mode; the demo keeps its own."""

from __future__ import annotations

from pathlib import Path

import pytest

from outreach.app import create_app
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
