"""The terminal phone `outreach call`: walks the demo radio campaign in each language."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from outreach.cli import app
from tests.support.voice import HOTLINE, RADIO


@pytest.fixture
def demo_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("OUTREACH_DATABASE_URL", "TWILIO_AUTH_TOKEN", "OUTREACH_PUBLIC_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OUTREACH_DEMO", "1")
    monkeypatch.setenv("OUTREACH_DATABASE_URL", f"sqlite:///{tmp_path / 'phone.db'}")
    monkeypatch.setenv("OUTREACH_SCHEDULER_ENABLED", "false")
    return tmp_path


@pytest.mark.parametrize(
    ("language_key", "expected"),
    [
        ("1", "/audio/az/legal.wav"),
        ("2", "Работайте за рубежом только"),
        ("3", "Work abroad only with an official work permit"),
    ],
)
def test_call_walks_the_demo_radio_campaign(
    demo_env: Path, language_key: str, expected: str
) -> None:
    result = CliRunner().invoke(
        app, ["call", "--to", RADIO, "--keys", f"{language_key},1,9", "--in-process"]
    )
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert expected in out
    assert "call ended: completed" in out
    assert "path: welcome → intro → topics → legal → legal_more → goodbye" in out
    assert "results: {'topic': 'legal_work'}" in out


def test_call_follows_no_input_and_hangs_up_when_keys_run_out(demo_env: Path) -> None:
    result = CliRunner().invoke(app, ["call", "--to", HOTLINE, "--keys", "3,,", "--in-process"])
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert "(no input)" in out and "For legal work abroad, press 1." in out
    assert "outcome hung_up at topics" in out


def test_call_refuses_an_unreachable_url(demo_env: Path) -> None:
    result = CliRunner().invoke(
        app, ["call", "--to", RADIO, "--keys", "1", "--url", "http://127.0.0.1:9"]
    )
    assert result.exit_code == 2 and "no service answers" in result.output


def test_call_walks_an_unanswered_transfer_in_office_hours(demo_env: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            *("call", "--to", RADIO, "--keys", "3,0,2", "--in-process"),
            *("--consultant", "no-answer", "--at", "2027-02-01 10:00"),
        ],
    )
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert "dialing +994125550199 — nobody answers" in out and "did nothing" not in out
    assert "All consultants are busy right now." in out
    assert "path: welcome → intro → topics → consultant → sms_optin → goodbye" in out
    assert "outcome completed at goodbye" in out


def test_call_after_hours_never_dials_the_consultant(demo_env: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            *("call", "--to", RADIO, "--keys", "3,0,2", "--in-process"),
            *("--consultant", "busy", "--at", "2027-02-06 11:00"),
        ],
    )
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert "dialing" not in out and "Our consultants answer Monday to Friday" in out
    assert "--consultant busy did nothing: no consultant was dialed" in out
    assert "outcome after_hours at goodbye" in out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--at", "tomorrow"], "is not a time like"),
        (["--at", "2027-02-01 10:00", "--url", "http://127.0.0.1:9"], "--at needs the app"),
        (["--consultant", "maybe"], "Invalid value for '--consultant'"),
    ],
)
def test_call_refuses_bad_transfer_options(demo_env: Path, extra: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["call", "--to", RADIO, "--keys", "3", *extra])
    assert result.exit_code == 2 and message in " ".join(result.output.split())
