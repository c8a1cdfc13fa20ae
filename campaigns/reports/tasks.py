"""Keeps the rollups current in the background, so a report rarely has much left to fold."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from zoneinfo import ZoneInfo

from campaigns.reports import rollups
from outreach.core.context import AppContext
from outreach.core.db import session_scope

log = logging.getLogger(__name__)


def refresh_once(ctx: AppContext) -> None:
    """Folds new raw rows into the rollups (the same refresh a report runs first)."""
    with session_scope(ctx.sessions) as session:
        rollups.refresh(
            session,
            zone=ZoneInfo(ctx.settings.default_timezone),
            now=ctx.clock(),
            lag_hours=ctx.settings.rollup_lag_hours,
        )


def start_refresher(ctx: AppContext) -> Callable[[], None] | None:
    """Refreshes every OUTREACH_ROLLUP_REFRESH_SECONDS in a thread (0 or no scheduler: off)."""
    interval = ctx.settings.rollup_refresh_seconds
    if interval <= 0 or not ctx.settings.scheduler_enabled:
        return None
    stopping = threading.Event()

    def loop() -> None:
        while not stopping.wait(interval):
            try:
                refresh_once(ctx)
            except Exception:  # a failed refresh is retried next time; reports refresh too
                log.exception("rollup refresh failed")

    thread = threading.Thread(target=loop, name="rollup-refresh", daemon=True)
    thread.start()

    def stop() -> None:
        stopping.set()
        thread.join(timeout=30)

    return stop
