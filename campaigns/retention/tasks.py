"""Runs the retention purge: once on demand, or daily inside the service."""

from __future__ import annotations

import logging
from collections.abc import Callable
from zoneinfo import ZoneInfo

from campaigns.retention.service import PurgeResult, purge
from outreach.core.context import AppContext
from outreach.core.db import session_scope

log = logging.getLogger(__name__)

# Local time of the daily purge: a quiet hour, well away from the morning airings.
PURGE_HOUR = 3
PURGE_MINUTE = 30


def purge_once(ctx: AppContext, *, dry_run: bool = False) -> PurgeResult:
    """Purges raw rows older than OUTREACH_RETENTION_DAYS (dry: only counts them)."""
    with session_scope(ctx.sessions) as session:
        result = purge(
            session,
            now=ctx.clock(),
            retention_days=ctx.settings.retention_days,
            zone=ZoneInfo(ctx.settings.default_timezone),
            lag_hours=ctx.settings.rollup_lag_hours,
            dry_run=dry_run,
        )
        if dry_run:
            session.rollback()  # the refresh it ran is redone by the next report anyway
        return result


def start_purger(ctx: AppContext) -> Callable[[], None] | None:
    """Purges once a day at 03:30 local time (off without the scheduler or with 0 days)."""
    if not ctx.settings.scheduler_enabled or ctx.settings.retention_days <= 0:
        return None
    from apscheduler.schedulers.background import BackgroundScheduler

    def tick() -> None:
        try:
            purge_once(ctx)
        except Exception:  # nothing is lost by waiting: tomorrow's purge covers today's rows
            log.exception("retention purge failed; will try again tomorrow")

    scheduler = BackgroundScheduler(timezone=ctx.settings.default_timezone)
    scheduler.add_job(
        tick,
        "cron",
        hour=PURGE_HOUR,
        minute=PURGE_MINUTE,
        id="retention-purge",
        max_instances=1,
        coalesce=True,
    )
    scheduler.start()
    return lambda: scheduler.shutdown(wait=True)
