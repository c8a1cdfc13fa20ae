"""`outreach text`: a signed SMS to the service, printing the reply, with no phone."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from outreach.cli import app


def test_text_in_process_on_a_fresh_demo_database_prints_the_reply(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OUTREACH_DATABASE_URL", f"sqlite:///{tmp_path}/demo.db")
    monkeypatch.setenv("OUTREACH_DEMO", "1")
    monkeypatch.delenv("TWILIO_AUTH_TOKEN", raising=False)
    result = CliRunner().invoke(
        app, ["text", "--in-process", "--to", "+994502000101", "--from", "+994501112233", "İŞ"]
    )
    assert result.exit_code == 0, result.output
    assert "Xaricdə iş?" in result.output
    assert (tmp_path / "outreach.secrets.json").exists()


def test_text_to_an_explicit_url_with_no_service_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OUTREACH_DATABASE_URL", f"sqlite:///{tmp_path}/demo.db")
    monkeypatch.setenv("OUTREACH_DEMO", "1")
    result = CliRunner().invoke(
        app, ["text", "--url", "http://127.0.0.1:9", "--to", "+994502000101", "iş"]
    )
    assert result.exit_code == 2
    assert "no service answers" in result.output


def test_text_without_url_falls_back_in_process_when_no_service_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OUTREACH_DATABASE_URL", f"sqlite:///{tmp_path}/demo.db")
    monkeypatch.setenv("OUTREACH_DEMO", "1")
    monkeypatch.setenv("OUTREACH_PUBLIC_URL", "http://127.0.0.1:9")
    result = CliRunner().invoke(app, ["text", "--to", "+994502000101", "work"])
    assert result.exit_code == 0, result.output
    assert "running in-process" in result.output and "Work abroad?" in result.output
