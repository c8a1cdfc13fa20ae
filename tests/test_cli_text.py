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
