"""Runs the retention purge: once on demand, or as a daily background job."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from campaigns.retention.service import PurgeResult, purge
from outreach.core.context import AppContext
from outreach.core.db import session_scope
from outreach.core.scheduling import DailyAt, Every, Job, Trigger
from outreach.core.settings import Settings

PURGE = "retention-purge"
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


def jobs(settings: Settings) -> list[Job]:
    """Declares the purge: daily at 03:30 local time (off with OUTREACH_RETENTION_DAYS=0)."""
    if settings.retention_days <= 0:
        return []
    trigger: Trigger = DailyAt(PURGE_HOUR, PURGE_MINUTE, settings.default_timezone)
    if settings.retention_purge_interval_seconds > 0:
        trigger = Every(settings.retention_purge_interval_seconds)
    return [Job(PURGE, trigger, purge_once)]
