"""Rollups give the same numbers as counting the raw log, incrementally and after a rebuild."""

from __future__ import annotations

import random
import statistics
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from campaigns.registry.models import Campaign, Interaction
from campaigns.reports import bitsets, rollups, service
from campaigns.reports.filters import ReportFilter
from campaigns.reports.models import RollupCount, RollupDaily
from campaigns.voice.models import Call
from outreach.core.context import AppContext
from tests.support.reports import SEED_END, add_interactions, seed_demo
from tests.support.voice import OPEN, RADIO, Caller

BAKU = ZoneInfo("Asia/Baku")
START = datetime(2027, 2, 1, tzinfo=UTC)


def _random_rows(n: int, campaign_ids: list[int | None], rng: random.Random) -> list[dict]:
    return [
        {
            "campaign_id": rng.choice(campaign_ids),
            "channel": rng.choice(["sms", "whatsapp", "voice"]),
            "language": rng.choice(["az", "ru", "en", None]),
            "contact_id": f"{rng.randrange(150):064x}",
            "created_at": START + timedelta(minutes=rng.randrange(60 * 24 * 10)),
            "external_sid": f"SM{i:032d}{rng.randrange(10**6)}",
        }
        for i in range(n)
    ]


def _direct(ctx: AppContext, first: date, last: date, **where: object) -> tuple[int, int, int]:
    """Counts interactions, distinct contacts and new contacts straight from the raw log."""
    start = datetime.combine(first, datetime.min.time(), BAKU)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), BAKU)
    with ctx.sessions() as session:
        rows = session.execute(
            select(
                Interaction.contact_id,
                Interaction.campaign_id,
                Interaction.channel,
                Interaction.language,
                Interaction.created_at,
            )
        ).all()
    firsts: dict[str, datetime] = {}
    for contact, _c, _ch, _l, at in rows:
        firsts[contact] = min(at, firsts.get(contact, at))
    chosen = [
        r
        for r in rows
        if start <= r[4] < end
        and all(
            {"campaign_id": r[1], "channel": r[2], "language": r[3]}[k] == v
            for k, v in where.items()
        )
    ]
    contacts = {r[0] for r in chosen}
    new = {c for c in contacts if start <= firsts[c] < end}
    return len(chosen), len(contacts), len(new)


def _report(ctx: AppContext, first: date, last: date, **kw: str | None) -> dict:
    with ctx.sessions.begin() as session:
        return service.report(
            session,
            settings=ctx.settings,
            now=datetime.now(UTC),
            flt=ReportFilter(start=first, end=last, **kw),
            exact=True,
        )


def test_rollups_equal_a_direct_count_of_the_raw_log(loaded: AppContext) -> None:
    rng = random.Random(5)
    with loaded.sessions() as session:
        ids: list[int | None] = [*session.scalars(select(Campaign.id)), None]
        flyer = session.scalar(select(Campaign).where(Campaign.code == "AZ-FLYER-BAKU-2027"))
        assert flyer is not None
    add_interactions(loaded, _random_rows(1500, ids, rng))
    for first, last in [
        (date(2027, 2, 1), date(2027, 2, 10)),
        (date(2027, 2, 3), date(2027, 2, 5)),
    ]:
        report = _report(loaded, first, last)
        total, unique, new = _direct(loaded, first, last)
        assert report["interactions"]["total"] == total
        assert report["contacts"]["unique"] == unique
        assert report["contacts"]["new"] == new
        assert report["contacts"]["returning"] == unique - new
        one = _report(loaded, first, last, campaign=flyer.code, language="ru")
        total, unique, new = _direct(loaded, first, last, campaign_id=flyer.id, language="ru")
        assert (one["interactions"]["total"], one["contacts"]["unique"]) == (total, unique)
        assert one["contacts"]["new"] == new
        sms = _report(loaded, first, last, channel="sms")
        assert sms["interactions"]["total"] == _direct(loaded, first, last, channel="sms")[0]


def test_incremental_refresh_matches_a_rebuild_and_counts_each_row_once(loaded: AppContext) -> None:
    rng = random.Random(9)
    with loaded.sessions() as session:
        ids: list[int | None] = [*session.scalars(select(Campaign.id)), None]
    rows = _random_rows(900, ids, rng)
    rows.sort(key=lambda r: r["created_at"])
    first, last = date(2027, 2, 1), date(2027, 2, 11)
    # Three batches, a report (and so a refresh) after each, one batch arriving late.
    add_interactions(loaded, rows[:300])
    _report(loaded, first, last)
    add_interactions(loaded, rows[600:])
    _report(loaded, first, last)
    add_interactions(loaded, rows[300:600])
    incremental = _report(loaded, first, last)
    again = _report(loaded, first, last)
    with loaded.sessions.begin() as session:
        rollups.rebuild(session, zone=BAKU, now=START + timedelta(days=30))
    rebuilt = _report(loaded, first, last)
    assert incremental == again == rebuilt
    total, unique, _new = _direct(loaded, first, last)
    assert rebuilt["interactions"]["total"] == total == 900
    assert rebuilt["contacts"]["unique"] == unique


def test_call_rollups_match_the_calls_table_after_a_seeded_month(loaded: AppContext) -> None:
    seed_demo(loaded, days=3)
    first, last = (SEED_END - timedelta(days=4)).date(), SEED_END.date()
    report = _report(loaded, first, last)
    with loaded.sessions() as session:
        calls = session.scalars(select(Call)).all()
        raw_voice = session.scalar(
            select(func.count()).select_from(Interaction).where(Interaction.channel == "voice")
        )
    assert report["calls"]["total"] == len(calls) > 20
    completed = [c for c in calls if c.outcome in ("completed", "transferred", "after_hours")]
    assert report["calls"]["completed"] == len(completed)
    durations = sorted(c.duration_seconds for c in calls if c.duration_seconds is not None)
    assert report["calls"]["mean_duration"] == round(sum(durations) / len(durations), 1)
    binned = [d - d % 5 + 2 for d in durations]  # the median is to the middle of a 5 s bin
    mid = len(binned) // 2
    median = binned[mid] if len(binned) % 2 else (binned[mid - 1] + binned[mid]) / 2
    assert report["calls"]["median_duration"] == median
    assert abs(median - statistics.median(durations)) <= 2.5
    assert report["interactions"]["voice"] == raw_voice
    welcome = next(n for n in report["funnel"] if n["node"] == "welcome")
    assert welcome["reached"] == len(calls)
    assert sum(t["count"] for t in report["topics"]) > 0


def test_a_call_in_progress_at_one_report_is_complete_in_the_next(
    loaded: AppContext, client: TestClient
) -> None:
    clock = {"now": OPEN}
    loaded.clock = lambda: clock["now"]
    call = Caller(client, RADIO)
    call.start()
    call.press("1")
    day = OPEN.astimezone(BAKU).date()

    def report() -> dict:
        with loaded.sessions.begin() as session:
            return service.report(
                session,
                settings=loaded.settings,
                now=clock["now"],
                flt=ReportFilter(start=day, end=day),
                exact=True,
            )

    clock["now"] = OPEN + timedelta(minutes=1)
    during = report()
    assert during["calls"]["total"] == 1 and during["calls"]["median_duration"] is None
    clock["now"] = OPEN + timedelta(minutes=2)
    call.press("3")
    call.status("completed", 95)
    # Days later (far past the trailing hours), with no new rows since.
    clock["now"] = OPEN + timedelta(days=3)
    after = report()
    assert after["calls"]["median_duration"] == 97  # the middle of the 95-99 s bin
    assert after["calls"]["mean_duration"] == 95.0
    assert {"topic": "visas", "count": 1} in after["topics"]


def test_rollups_are_keyed_by_hour_or_local_day_and_cell() -> None:
    cell = {"campaign_id", "channel", "language", "metric", "key"}
    assert {c.name for c in RollupCount.__table__.primary_key.columns} == {"hour", *cell}
    assert {c.name for c in RollupDaily.__table__.primary_key.columns} == {"day", *cell}


def test_contact_sets_round_trip_and_union_counts_each_member_once() -> None:
    a = bitsets.from_members([1, 5, 900, 70_000, 3_000_000])
    b = bitsets.from_members([5, 6, 70_000])
    assert bitsets.members(bitsets.decode(bitsets.encode(a))) == [1, 5, 900, 70_000, 3_000_000]
    both = bitsets.union([a, b, bitsets.decode(bitsets.encode(b))])
    assert len(both) == 6
    assert Counter(bitsets.members(both)) == Counter([1, 5, 6, 900, 70_000, 3_000_000])
    assert len(bitsets.union([])) == 0


def test_the_background_refresher_folds_new_rows_and_is_off_without_scheduler(
    loaded: AppContext,
) -> None:
    from sqlalchemy import func as sqlfunc

    from campaigns.reports.models import RollupDaily
    from campaigns.reports.tasks import refresh_once
    from outreach.jobs import start_in_service

    now = datetime.now(UTC)
    add_interactions(loaded, [{"contact_id": f"{i:064x}", "created_at": now} for i in range(7)])
    refresh_once(loaded)
    with loaded.sessions() as session:
        total = session.scalar(
            select(sqlfunc.sum(RollupDaily.value)).where(RollupDaily.metric == "interactions")
        )
    assert total == 7
    assert loaded.settings.scheduler_enabled is False
    assert start_in_service(loaded) is None
