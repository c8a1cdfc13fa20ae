"""Report use cases shared by the API, the dashboard, the CSV export and the terminal."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from campaigns.reports import disclosure, lift, queries, rollups
from campaigns.reports.disclosure import Rules
from campaigns.reports.filters import ReportFilter, Scope, resolve
from campaigns.reports.schemas import CampaignReport, ChannelTable, LiftReport, Suppressed
from outreach.core.settings import Settings

# Reports within this long of the last refresh reuse it (a dashboard page asks several).
REFRESH_INTERVAL = timedelta(seconds=10)
# What a row of the channel comparison is.
BY = ("medium", "campaign")


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
    """Returns the reach report of a filter; as a viewer may see it unless exact."""
    scope = _prepare(session, settings, flt, now)
    result, ledger = queries.campaign_report(session, scope, people=not exact)
    return result if exact else disclosure.viewer_report(result, ledger, Rules.of(settings))


def channels(
    session: Session,
    *,
    settings: Settings,
    flt: ReportFilter,
    now: datetime,
    exact: bool,
    by: str = "medium",
) -> ChannelTable:
    """Returns the channel comparison of a filter, a row per medium or per campaign (`by`);
    as a viewer may see it unless exact."""
    if by not in BY:
        raise ValueError(f"by must be one of {', '.join(BY)}")
    scope = _prepare(session, settings, flt, now)
    result, ledger = queries.channel_comparison(session, scope, people=not exact, by=by)
    return result if exact else disclosure.viewer_channels(result, ledger, Rules.of(settings))


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
    """Returns the airing lift of a filter; as a viewer may see it unless exact."""
    scope = resolve(session, flt, zone=ZoneInfo(settings.default_timezone))
    before = before or settings.lift_baseline_minutes
    after = after or settings.lift_window_minutes
    if exact:
        return lift.airing_lift(session, scope, before=before, after=after)
    rules = Rules.of(settings)
    return lift.airing_lift(
        session,
        scope,
        before=before,
        after=after,
        publish=lift.for_viewers(rules.k, rules.base, rules.secret),
        suppressed=Suppressed(k=rules.k, base=rules.base),
    )


def rebuild(session: Session, *, settings: Settings, now: datetime) -> rollups.RefreshStats:
    """Rebuilds every rollup from the raw log."""
    return rollups.rebuild(session, zone=ZoneInfo(settings.default_timezone), now=now)
