"""Keeps the rollups current in the background, so a report rarely has much left to fold."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from campaigns.reports import rollups
from outreach.core.context import AppContext
from outreach.core.db import session_scope
from outreach.core.scheduling import Every, Job
from outreach.core.settings import Settings

ROLLUP_REFRESH = "reports-rollup-refresh"


def refresh_once(ctx: AppContext) -> None:
    """Folds new raw rows into the rollups (the same refresh a report runs first)."""
    with session_scope(ctx.sessions) as session:
        rollups.refresh(
            session,
            zone=ZoneInfo(ctx.settings.default_timezone),
            now=ctx.clock(),
            lag_hours=ctx.settings.rollup_lag_hours,
        )


def jobs(settings: Settings) -> list[Job]:
    """Declares the refresh, every OUTREACH_ROLLUP_REFRESH_SECONDS (0: only before reports)."""
    if settings.rollup_refresh_seconds <= 0:
        return []
    return [Job(ROLLUP_REFRESH, Every(settings.rollup_refresh_seconds), refresh_once)]
