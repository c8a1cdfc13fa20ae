"""Report use cases shared by the API, the dashboard, the CSV export and the terminal."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from campaigns.reports import lift, queries, rollups, suppression
from campaigns.reports.filters import ReportFilter, Scope, resolve
from campaigns.reports.schemas import CampaignReport, ChannelTable, LiftReport
from outreach.core.settings import Settings

# Reports within this long of the last refresh reuse it (a dashboard page asks several).
REFRESH_INTERVAL = timedelta(seconds=10)


def _prepare(session: Session, settings: Settings, flt: ReportFilter, now: datetime) -> Scope:
    zone = ZoneInfo(settings.default_timezone)
    rollups.refresh(
        session,
        zone=zone,
        now=now,
        lag_hours=settings.rollup_lag_hours,
        min_interval=REFRESH_INTERVAL,
    )
    return resolve(session, flt, zone=zone)


def report(
    session: Session, *, settings: Settings, flt: ReportFilter, now: datetime, exact: bool
) -> CampaignReport:
    """Returns the reach report of a filter; small cells hidden unless exact."""
    result = queries.campaign_report(session, _prepare(session, settings, flt, now))
    if exact:
        return result
    return CampaignReport.model_validate(
        suppression.protect_report(_json(result), settings.small_cell_k)
    )


def channels(
    session: Session, *, settings: Settings, flt: ReportFilter, now: datetime, exact: bool
) -> ChannelTable:
    """Returns the channel comparison of a filter; small cells hidden unless exact."""
    result = queries.channel_comparison(session, _prepare(session, settings, flt, now))
    if exact:
        return result
    return ChannelTable.model_validate(
        suppression.protect_channels(_json(result), settings.small_cell_k)
    )


def airing_lift(
    session: Session,
    *,
    settings: Settings,
    flt: ReportFilter,
    now: datetime,
    exact: bool,
    before: int | None = None,
    after: int | None = None,
) -> LiftReport:
    """Returns the airing lift of a filter; small cells hidden unless exact."""
    scope = resolve(session, flt, zone=ZoneInfo(settings.default_timezone))
    result = lift.airing_lift(
        session,
        scope,
        before=before or settings.lift_baseline_minutes,
        after=after or settings.lift_window_minutes,
    )
    if exact:
        return result
    return LiftReport.model_validate(lift.protect_lift(_json(result), settings.small_cell_k))


def _json(payload: CampaignReport | ChannelTable | LiftReport) -> dict[str, Any]:
    # Suppression reads and rewrites the JSON document a viewer would receive.
    return payload.model_dump(mode="json", by_alias=True)


def rebuild(session: Session, *, settings: Settings, now: datetime) -> rollups.RefreshStats:
    """Rebuilds every rollup from the raw log."""
    return rollups.rebuild(session, zone=ZoneInfo(settings.default_timezone), now=now)
