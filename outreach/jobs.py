"""One scheduler for every domain's background jobs, in `outreach serve` or `outreach worker`.

The jobs are declared beside their domains (each `tasks.py` has `jobs(settings)`); here they
run on one APScheduler 3 BackgroundScheduler. Any number of services and workers may run it:
each job's tick is claimed in `job_runs` first (outreach/core/scheduling.py), so it runs once.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from campaigns.followups import tasks as followups_tasks
from campaigns.reports import tasks as reports_tasks
from campaigns.retention import tasks as retention_tasks
from campaigns.sms import tasks as sms_tasks
from campaigns.voice import tasks as voice_tasks
from outreach.core import metrics, scheduling
from outreach.core.context import AppContext
from outreach.core.scheduling import EPOCH, DailyAt, Every, Job, Trigger
from outreach.core.settings import Settings

log = logging.getLogger(__name__)
# APScheduler logs every run of a job at INFO; a tick every few seconds drowns the real events.
logging.getLogger("apscheduler").setLevel(logging.WARNING)

# Every domain that has background jobs: its `jobs(settings)` declares them.
DECLARATIONS: tuple[Callable[[Settings], list[Job]], ...] = (
    followups_tasks.jobs,
    sms_tasks.jobs,
    voice_tasks.jobs,
    reports_tasks.jobs,
    retention_tasks.jobs,
)
STOP_POLL_SECONDS = 0.5
# The scheduler of a process beats this often; /readyz fails when it has not for STALE_AFTER.
HEARTBEAT_SECONDS = 10.0
STALE_AFTER_SECONDS = 60.0


class Heartbeat:
    """When this process's scheduler last fired: what /readyz checks where the jobs run."""

    def __init__(self, stale_after: float = STALE_AFTER_SECONDS) -> None:
        self.stale_after = stale_after
        self.last = time.monotonic()

    def beat(self) -> None:
        self.last = time.monotonic()

    def problem(self) -> str | None:
        """Says how long the scheduler has been silent when that is too long; else None."""
        silent = time.monotonic() - self.last
        if silent <= self.stale_after:
            return None
        every = f"{HEARTBEAT_SECONDS:g}"
        return f"scheduler: has not ticked for {silent:.0f} s (it beats every {every} s)"


def declared_jobs(settings: Settings) -> list[Job]:
    """Returns every domain's jobs under these settings (a job a setting turns off is absent)."""
    return [job for declare in DECLARATIONS for job in declare(settings)]


def _now() -> datetime:
    # The wall clock, not ctx.clock: ticks are real slots shared with the other processes.
    return datetime.now(UTC)


def run_tick(ctx: AppContext, job: Job, *, now: datetime | None = None) -> bool:
    """Runs the job for the tick `now` falls in unless another process has; says if it ran."""
    started = now or _now()
    tick = job.trigger.tick(started)
    try:
        claimed = scheduling.claim(ctx.engine, job.name, tick, now=started)
    except Exception:  # the database is away: the next tick tries again
        log.exception(
            "job tick not claimed", extra={"job": job.name, "tick": scheduling.tick_label(tick)}
        )
        return False
    if not claimed:
        log.debug("job skipped", extra={"job": job.name, "tick": scheduling.tick_label(tick)})
        return False
    log.debug("job started", extra={"job": job.name, "tick": scheduling.tick_label(tick)})
    _run(ctx, job)
    return True


def run_now(ctx: AppContext, job: Job) -> str | None:
    """Runs the job at once, outside the ticks (`outreach worker --once`); returns its error."""
    scheduling.record_start(ctx.engine, job.name, now=_now())
    return _run(ctx, job)


def _run(ctx: AppContext, job: Job) -> str | None:
    try:
        job.run(ctx)
    except Exception as exc:
        log.exception("job failed; it runs again on its next tick", extra={"job": job.name})
        error: str | None = type(exc).__name__
    else:
        error = None
    metrics.JOB_RUNS.labels(job=job.name, result="error" if error else "ok").inc()
    try:
        scheduling.record(ctx.engine, job.name, now=_now(), error=error)
    except Exception:  # only the ledger is behind; the run itself is done
        log.exception("job run not recorded", extra={"job": job.name})
    return error


def run_all_once(ctx: AppContext) -> dict[str, str | None]:
    """Runs every declared job once, in order; returns each job's error (None: it succeeded)."""
    return {job.name: run_now(ctx, job) for job in declared_jobs(ctx.settings)}


def _apscheduler_trigger(trigger: Trigger) -> BaseTrigger:
    match trigger:
        case Every(seconds=seconds):
            # Slots start at the epoch, so every process fires on the same ones.
            return IntervalTrigger(seconds=seconds, start_date=EPOCH, timezone=UTC)
        case DailyAt(hour=hour, minute=minute, timezone=zone):
            return CronTrigger(hour=hour, minute=minute, timezone=zone)
    raise TypeError(f"unknown trigger {trigger!r}")


def start(ctx: AppContext, heartbeat: Heartbeat | None = None) -> Callable[[], None]:
    """Starts the scheduler with every declared job; returns its stop function."""
    declared = declared_jobs(ctx.settings)
    scheduler = BackgroundScheduler(timezone=UTC)
    if heartbeat is not None:
        heartbeat.beat()
        every = IntervalTrigger(seconds=HEARTBEAT_SECONDS, timezone=UTC)
        scheduler.add_job(heartbeat.beat, every, id="scheduler-heartbeat", coalesce=True)
    for job in declared:
        # Missed slots coalesce into one run, and a late run still runs: its tick is the slot
        # it falls in, so it cannot run a slot another process ran.
        options = {"args": [ctx, job], "coalesce": True, "misfire_grace_time": None}
        trigger = _apscheduler_trigger(job.trigger)
        scheduler.add_job(run_tick, trigger, id=job.name, max_instances=1, **options)
        if job.at_start:
            # A separate one-off run, so the job's own runs stay on the shared slots. Not a
            # "date" job: APScheduler 3 removes a spent one right after submitting it, and a
            # stop at that moment failed the removal (JobLookupError) and killed its thread.
            # This one stays scheduled, a century on.
            once = IntervalTrigger(days=36500, timezone=UTC)
            now = datetime.now(UTC)
            scheduler.add_job(run_tick, once, id=f"{job.name}@start", next_run_time=now, **options)
    scheduler.start()
    log.info("background jobs started", extra={"jobs": [job.name for job in declared]})

    def stop() -> None:
        scheduler.shutdown(wait=True)

    return stop


def start_in_service(
    ctx: AppContext, heartbeat: Heartbeat | None = None
) -> Callable[[], None] | None:
    """Starts the jobs inside the web service unless OUTREACH_SCHEDULER_ENABLED is off."""
    if not ctx.settings.scheduler_enabled:
        return None
    return start(ctx, heartbeat)


def run_worker(ctx: AppContext) -> None:
    """Runs the jobs in the foreground until SIGINT or SIGTERM."""
    stopping = threading.Event()

    def _stop(signum: int, _frame: object) -> None:
        log.info("worker stopping", extra={"signal": signum})
        stopping.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    stop = start(ctx)
    log.info("worker started")
    try:
        while not stopping.wait(STOP_POLL_SECONDS):
            pass
    finally:
        stop()
