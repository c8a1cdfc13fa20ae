"""APScheduler 3 jobs that run the dispatcher: inside the service, or as `outreach worker`."""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable
from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from campaigns.followups.dispatcher import Dispatcher
from outreach.core.context import AppContext

log = logging.getLogger(__name__)

JOB_ID = "followups-dispatch"
# APScheduler logs every run of a job at INFO; a tick every few seconds drowns the real events.
logging.getLogger("apscheduler").setLevel(logging.WARNING)


def dispatch_due(ctx: AppContext) -> None:
    """Sends everything due now; a failure is logged and retried on the next tick."""
    try:
        report = Dispatcher(ctx).run_until_idle()
    except Exception:
        log.exception("follow-up dispatch failed; will try again on the next tick")
        return
    if report.claimed or report.reclaimed:
        log.info(
            "follow-up dispatch",
            extra={
                k: getattr(report, k)
                for k in (
                    "claimed",
                    "sent",
                    "retried",
                    "failed",
                    "cancelled",
                    "deferred",
                    "reclaimed",
                )
            },
        )


def add_dispatch_job(scheduler: BaseScheduler, ctx: AppContext) -> None:
    """Adds the dispatch job: first run at once (a restart sends what fell due), then a tick."""
    scheduler.add_job(
        dispatch_due,
        "interval",
        args=[ctx],
        id=JOB_ID,
        seconds=max(0.1, ctx.settings.dispatch_interval_seconds),
        next_run_time=datetime.now().astimezone(),
        max_instances=1,
        coalesce=True,
        replace_existing=True,
    )


def can_send(ctx: AppContext) -> bool:
    """Says whether Twilio credentials are set; without them rows stay pending, not failed."""
    if ctx.settings.twilio_account_sid and ctx.settings.twilio_auth_token:
        return True
    log.warning(
        "TWILIO_ACCOUNT_SID or TWILIO_AUTH_TOKEN is not set: follow-up messages are kept "
        "pending and not sent"
    )
    return False


def start_in_service(ctx: AppContext) -> Callable[[], None] | None:
    """Starts the dispatcher in the web service unless OUTREACH_SCHEDULER_ENABLED is off."""
    if not ctx.settings.scheduler_enabled or not can_send(ctx):
        return None
    scheduler = BackgroundScheduler(timezone="UTC")
    add_dispatch_job(scheduler, ctx)
    scheduler.start()
    log.info("follow-up dispatcher started in the service")

    def stop() -> None:
        scheduler.shutdown(wait=True)

    return stop


def run_worker(ctx: AppContext) -> None:
    """Runs the dispatcher in the foreground until SIGINT or SIGTERM."""
    scheduler = BlockingScheduler(timezone="UTC")
    add_dispatch_job(scheduler, ctx)

    def _stop(signum: int, _frame: object) -> None:
        log.info("worker stopping", extra={"signal": signum})
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    log.info("follow-up worker started")
    scheduler.start()
