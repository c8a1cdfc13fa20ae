"""Job ticks: the slots every process shares, and the claim that lets one process run each."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from outreach.core.context import AppContext
from outreach.core.scheduling import DailyAt, Every, JobRun, claim, epoch_ms, record

THREADS = 20
NOW = datetime(2027, 2, 1, 10, 0, 7, 300_000, tzinfo=UTC)
BAKU = ZoneInfo("Asia/Baku")


def _race(ctx: AppContext, name: str, tick: int) -> list[bool]:
    """Claims the same tick from THREADS threads at once; returns each thread's answer."""
    barrier = threading.Barrier(THREADS)
    results: list[bool] = []
    lock = threading.Lock()

    def contender() -> None:
        barrier.wait(timeout=30)
        won = claim(ctx.engine, name, tick, now=NOW)
        with lock:
            results.append(won)

    threads = [threading.Thread(target=contender) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == THREADS, "a contender did not finish"
    return results


def _row(ctx: AppContext, name: str) -> JobRun:
    with ctx.sessions() as session:
        row = session.scalar(select(JobRun).where(JobRun.name == name))
        assert row is not None
        session.expunge(row)
    return row


def test_of_twenty_threads_claiming_a_new_job_tick_exactly_one_wins(ctx: AppContext) -> None:
    assert _race(ctx, "race", 1000).count(True) == 1
    row = _row(ctx, "race")
    assert row.last_tick == 1000 and row.last_started_at == NOW


def test_of_twenty_threads_claiming_the_next_tick_exactly_one_wins(ctx: AppContext) -> None:
    assert claim(ctx.engine, "race", 1000, now=NOW)
    assert _race(ctx, "race", 2000).count(True) == 1
    assert _row(ctx, "race").last_tick == 2000


def test_a_claimed_or_older_tick_is_refused_and_a_later_one_taken(ctx: AppContext) -> None:
    assert claim(ctx.engine, "a", 1000, now=NOW)
    assert not claim(ctx.engine, "a", 1000, now=NOW)
    assert not claim(ctx.engine, "a", 999, now=NOW)
    assert claim(ctx.engine, "b", 1000, now=NOW)  # each job has its own ticks
    assert claim(ctx.engine, "a", 1001, now=NOW)


def test_a_run_records_its_success_or_only_its_error_class(ctx: AppContext) -> None:
    assert claim(ctx.engine, "a", 1000, now=NOW)
    record(ctx.engine, "a", now=NOW, error="OperationalError")
    row = _row(ctx, "a")
    assert row.last_error == "OperationalError" and row.last_success_at is None
    later = NOW + timedelta(seconds=5)
    record(ctx.engine, "a", now=later)
    row = _row(ctx, "a")
    assert row.last_error is None and row.last_success_at == later and row.last_tick == 1000


def test_an_interval_tick_is_the_start_of_its_epoch_aligned_slot() -> None:
    assert Every(5).tick(NOW) == epoch_ms(NOW.replace(second=5, microsecond=0))
    assert Every(0.2).tick(NOW) == epoch_ms(NOW.replace(microsecond=200_000))
    assert Every(60).tick(NOW) == epoch_ms(NOW.replace(second=0, microsecond=0))
    # Every moment of a slot has the slot's tick, and the next slot the next one.
    slot = NOW.replace(second=5, microsecond=0)
    assert Every(5).tick(slot + timedelta(seconds=4.999)) == epoch_ms(slot)
    assert Every(5).tick(slot + timedelta(seconds=5)) == epoch_ms(slot) + 5000


def test_a_longer_interval_never_moves_the_tick_back_in_time() -> None:
    # A tick is a time, so changing the interval cannot stop a job from running for ages.
    for seconds in (0.2, 1, 7, 60, 3600):
        tick = Every(seconds).tick(NOW)
        assert epoch_ms(NOW) - seconds * 1000 < tick <= epoch_ms(NOW)


def test_a_daily_tick_is_the_last_local_time_of_day_passed() -> None:
    daily = DailyAt(3, 30, "Asia/Baku")
    before = datetime(2027, 2, 1, 3, 29, tzinfo=BAKU)
    after = datetime(2027, 2, 1, 3, 30, tzinfo=BAKU)
    assert daily.tick(before) == epoch_ms(datetime(2027, 1, 31, 3, 30, tzinfo=BAKU))
    assert daily.tick(after) == epoch_ms(after)
    assert daily.tick(after + timedelta(hours=23, minutes=59)) == epoch_ms(after)
    assert daily.tick(after + timedelta(days=1)) == epoch_ms(after) + 86_400_000
