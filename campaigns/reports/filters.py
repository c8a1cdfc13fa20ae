"""Report filters: a local date range plus campaign, medium, region, language and channel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.registry.models import Campaign
from campaigns.registry.schemas import EARLIEST_DAY, LATEST_DAY


class FilterError(ValueError):
    """A filter that names something that does not exist or a backwards range."""


@dataclass(frozen=True)
class ReportFilter:
    """Dates are inclusive local days in the report time zone."""

    start: date
    end: date
    campaign: str | None = None
    medium: str | None = None
    region: str | None = None
    language: str | None = None
    channel: str | None = None

    def describe(self) -> dict[str, str | None]:
        return {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "campaign": self.campaign,
            "medium": self.medium,
            "region": self.region,
            "language": self.language,
            "channel": self.channel,
        }


@dataclass(frozen=True)
class Scope:
    """A filter resolved against the database: campaign ids (None = all, with unattributed)."""

    flt: ReportFilter
    zone: ZoneInfo
    campaigns: list[Campaign]
    campaign_ids: list[int] | None

    @property
    def utc_start(self) -> datetime:
        return datetime.combine(self.flt.start, time.min, self.zone)

    @property
    def utc_end(self) -> datetime:
        return datetime.combine(self.flt.end + timedelta(days=1), time.min, self.zone)


def resolve(session: Session, flt: ReportFilter, *, zone: ZoneInfo) -> Scope:
    """Resolves a filter to the campaigns it covers, or raises FilterError."""
    if flt.end < flt.start:
        raise FilterError("'to' is before 'from'")
    if (flt.end - flt.start).days > 3660:
        raise FilterError("the range is longer than ten years")
    query = select(Campaign).order_by(Campaign.code)
    narrowed = False
    if flt.campaign:
        query = query.where(Campaign.code == flt.campaign)
        narrowed = True
    if flt.medium:
        query = query.where(Campaign.medium == flt.medium)
        narrowed = True
    if flt.region:
        query = query.where(Campaign.region == flt.region)
        narrowed = True
    campaigns = list(session.scalars(query))
    if (
        flt.campaign
        and not campaigns
        and session.scalar(select(Campaign.id).where(Campaign.code == flt.campaign)) is None
    ):
        raise FilterError(f"unknown campaign {flt.campaign!r}")
    ids = [c.id for c in campaigns] if narrowed else None
    return Scope(flt=flt, zone=zone, campaigns=campaigns, campaign_ids=ids)


def parse_day(raw: str | None, *, default: date) -> date:
    """Parses YYYY-MM-DD (or returns the default), raising FilterError otherwise."""
    if raw is None or raw == "":
        return default
    try:
        day = date.fromisoformat(raw)
    except ValueError as exc:
        raise FilterError(f"{raw!r} is not a date (YYYY-MM-DD)") from exc
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise FilterError(f"{raw} is outside {EARLIEST_DAY} to {LATEST_DAY}")
    return day
