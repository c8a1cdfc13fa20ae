"""The demo's day, its state file (how text and call find it) and the seed's progress."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from campaigns.followups.tasks import can_send
from campaigns.registry.models import Campaign
from outreach.core.context import AppContext
from outreach.core.settings import Settings
from outreach.demo.campaigns import REFERENCE_DAY, load_demo
from outreach.demo.client import find_demo
from outreach.demo.seed import seed
from outreach.demo.state import DemoState, clear_state, read_state, write_state


def test_the_demo_campaigns_are_dated_around_the_demo_day(ctx: AppContext) -> None:
    day = date(2026, 12, 1)
    with ctx.sessions.begin() as session:
        created = load_demo(session, day=day, default_timezone="Asia/Baku").created
    assert len(created) == 7
    with ctx.sessions() as session:
        spans = {c.code: (c.start_date, c.end_date) for c in session.scalars(select(Campaign))}
    # Every demo campaign runs on the day and for the month before it (what `demo seed` writes).
    assert all(start <= day - timedelta(days=30) and day <= end for start, end in spans.values())
    assert spans["AZ-RADIO-IDMAN-2027"] == (
        date(2027, 1, 10) + (day - REFERENCE_DAY),
        date(2027, 3, 31) + (day - REFERENCE_DAY),
    )
    with ctx.sessions.begin() as session:
        again = load_demo(session, day=day, default_timezone="Asia/Baku")
    assert again.created == [] and again.updated == []


def _settings(tmp_path: Path, **kw: str) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path}/outreach.db", **kw)  # type: ignore[arg-type]


def test_text_and_call_find_the_running_demo_through_its_state_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = _settings(tmp_path)
    write_state(settings, DemoState(url="http://127.0.0.1:8123", pid=os.getpid()))
    found = find_demo(settings, url=None)
    assert found.public_url == "http://127.0.0.1:8123"
    assert "using the demo at http://127.0.0.1:8123 (outreach.demo.json)" in capsys.readouterr().out
    # An explicit --url or a configured public URL wins over the state file.
    assert find_demo(settings, url="http://127.0.0.1:9").public_url == settings.public_url
    configured = _settings(tmp_path, public_url="https://outreach.example")
    assert find_demo(configured, url=None).public_url == "https://outreach.example"
    clear_state(settings)
    assert not (tmp_path / "outreach.demo.json").exists()


def test_a_state_file_left_by_a_demo_that_is_gone_is_ignored(tmp_path: Path) -> None:
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    settings = _settings(tmp_path)
    write_state(settings, DemoState(url="http://127.0.0.1:8123", pid=int(gone.stdout)))
    assert read_state(settings) is None
    assert find_demo(settings, url=None).public_url == settings.public_url


def test_the_seed_reports_its_progress_to_the_end(loaded: AppContext) -> None:
    heard: list[tuple[int, int]] = []
    end = datetime(2027, 2, 12, 20, 0, tzinfo=UTC)
    stats = seed(loaded, days=1, end=end, rng_seed=3, progress=lambda d, t: heard.append((d, t)))
    assert stats.calls > 0
    assert heard and heard[-1][0] == heard[-1][1] > 0
    assert [d for d, _ in heard] == sorted(d for d, _ in heard)
    assert all(d <= t for d, t in heard)


@pytest.mark.parametrize(
    ("sid", "token", "named"),
    [
        ("AC" + "1" * 32, "token", None),
        ("", "token", "TWILIO_ACCOUNT_SID is not set"),
        ("AC" + "1" * 32, "", "TWILIO_AUTH_TOKEN is not set"),
        ("", "", "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are not set"),
    ],
)
def test_the_twilio_credentials_warning_names_only_what_is_missing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, sid: str, token: str, named: str | None
) -> None:
    settings = _settings(tmp_path).model_copy(
        update={"twilio_account_sid": sid, "twilio_auth_token": token}
    )
    with caplog.at_level(logging.WARNING):
        assert can_send(settings) is (named is None)
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    if named is None:
        assert warnings == []
    else:
        assert len(warnings) == 1 and warnings[0].startswith(named)
