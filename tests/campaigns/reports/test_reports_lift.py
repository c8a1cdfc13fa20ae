"""Airing lift: calls per minute around airings, a baseline that skips other airings' windows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from campaigns.airings import service as airings
from campaigns.registry.models import Campaign
from campaigns.reports import service
from campaigns.reports.filters import ReportFilter
from outreach.core.context import AppContext
from tests.support.reports import add_interactions

A = datetime(2027, 2, 3, 6, 0, tzinfo=UTC)  # 10:00 in Baku
B = A - timedelta(minutes=20)  # another station's airing inside A's baseline


def _setup(ctx: AppContext) -> tuple[int, int]:
    with ctx.sessions.begin() as session:
        idman = session.scalar(select(Campaign).where(Campaign.code == "AZ-RADIO-IDMAN-2027"))
        flyer = session.scalar(select(Campaign).where(Campaign.code == "AZ-FLYER-BAKU-2027"))
        assert idman is not None and flyer is not None
        airings.create(
            session, campaign_code=idman.code, station="Idman FM", aired_at=A, duration_seconds=30
        )
        airings.create(
            session, campaign_code=idman.code, station="ANS ChM", aired_at=B, duration_seconds=30
        )
        ids = idman.id, flyer.id
    rows = []

    def call(at: datetime, campaign_id: int | None) -> None:
        rows.append(
            {
                "channel": "voice",
                "kind": "call",
                "campaign_id": campaign_id,
                "contact_id": f"{len(rows):064x}",
                "created_at": at,
            }
        )

    for minute in range(30):  # A's baseline: 1/min, but 5/min inside B's window
        start = A - timedelta(minutes=30 - minute)
        inside_b = B <= start < B + timedelta(minutes=10)
        for k in range(5 if inside_b else 1):
            call(start + timedelta(seconds=5 + k), ids[0] if k % 2 else None)
    for minute in range(10):  # A's window: 4/min
        for k in range(4):
            call(A + timedelta(minutes=minute, seconds=3 + k), ids[0])
    # Another campaign's calls and texts at the same time are not the spot's responses.
    for k in range(20):
        call(A + timedelta(seconds=30 + k), ids[1])
    add_interactions(ctx, rows)
    return ids


def _lift(ctx: AppContext, **kw: int) -> dict:
    with ctx.sessions.begin() as session:
        return service.airing_lift(
            session,
            settings=ctx.settings,
            now=datetime.now(UTC),
            exact=True,
            flt=ReportFilter(start=date(2027, 2, 1), end=date(2027, 2, 5)),
            **kw,
        )


def test_baseline_leaves_out_other_airings_windows_and_excess_is_over_it(
    loaded: AppContext,
) -> None:
    _setup(loaded)
    lift = _lift(loaded)
    row = next(r for r in lift["airings"] if r["station"] == "Idman FM")
    assert row["baseline_minutes_used"] == 20
    assert row["baseline_per_minute"] == 1.0
    assert row["calls_after"] == 40
    assert row["excess_calls"] == 30.0
    assert row["per_minute"][30:] == [4] * 10
    assert len(row["per_minute"]) == 40


def test_windows_are_configurable(loaded: AppContext) -> None:
    _setup(loaded)
    lift = _lift(loaded, before=10, after=5)
    row = next(r for r in lift["airings"] if r["station"] == "Idman FM")
    assert lift["minutes"][0] == -10 and lift["minutes"][-1] == 4
    assert row["baseline_per_minute"] == 1.0 and row["baseline_minutes_used"] == 10
    assert row["calls_after"] == 20 and row["excess_calls"] == 15.0


def test_results_are_summed_per_station(loaded: AppContext) -> None:
    _setup(loaded)
    stations = {s["station"]: s for s in _lift(loaded)["stations"]}
    assert set(stations) == {"Idman FM", "ANS ChM"}
    assert stations["Idman FM"]["airings"] == 1
    assert stations["Idman FM"]["excess_calls"] == 30.0
    assert len(stations["ANS ChM"]["mean_per_minute"]) == 40


def test_csv_import_adds_airings_once_and_reports_bad_rows(loaded: AppContext) -> None:
    text = (
        "campaign,station,aired_at,duration_seconds\n"
        "AZ-RADIO-IDMAN-2027,Idman FM,2027-02-04T08:00:00,30\n"
        "AZ-RADIO-ANS-2027,ANS ChM,2027-02-04T19:00:00+04:00,45\n"
        "NOPE,Idman FM,2027-02-04T09:00:00,30\n"
        "AZ-RADIO-ANS-2027,ANS ChM,yesterday,30\n"
    )
    with loaded.sessions.begin() as session:
        added, problems = airings.import_csv(session, text=text)
    assert added == 2
    assert [p.split(":")[0] for p in problems] == ["line 4", "line 5"]
    with loaded.sessions.begin() as session:
        again, repeated = airings.import_csv(session, text=text)
        stored = airings.list_between(
            session, start=A - timedelta(days=5), end=A + timedelta(days=5)
        )
    assert again == 0 and len(repeated) == 4
    first = next(a for a in stored if a.station == "Idman FM")
    assert first.aired_at == datetime(2027, 2, 4, 4, 0, tzinfo=UTC)  # local 08:00 in Baku


def test_an_airing_needs_a_known_campaign_and_a_sane_duration(loaded: AppContext) -> None:
    with loaded.sessions.begin() as session, pytest.raises(airings.AiringError):
        airings.create(
            session,
            campaign_code="AZ-RADIO-IDMAN-2027",
            station="X",
            aired_at=A,
            duration_seconds=0,
        )


def test_airings_import_command_reads_a_csv_file(loaded: AppContext, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from outreach.cli import app

    file = tmp_path / "airings.csv"
    file.write_text(
        "campaign,station,aired_at,duration_seconds\n"
        "AZ-TV-ITV-2027,ITV,2027-02-05T20:30:00,45\n"
        "AZ-TV-ITV-2027,ITV,not a time,45\n",
        encoding="utf-8",
    )
    env = {
        "OUTREACH_DATABASE_URL": loaded.settings.database_url,
        "OUTREACH_HASH_KEY": loaded.settings.hash_key,
        "OUTREACH_ENCRYPTION_KEY": loaded.settings.encryption_key,
        "OUTREACH_SESSION_SECRET": loaded.settings.session_secret,
        "TWILIO_AUTH_TOKEN": loaded.settings.twilio_auth_token,
    }
    result = CliRunner().invoke(app, ["airings", "import", str(file)], env=env)
    assert result.exit_code == 1, result.output  # a row was skipped
    assert "imported 1 airing(s), skipped 1" in result.output
    with loaded.sessions() as session:
        rows = airings.list_between(session, start=A, end=A + timedelta(days=5))
    assert [(a.station, a.duration_seconds) for a in rows] == [("ITV", 45)]
