"""Query parameters shared by report endpoints and pages."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Depends, HTTPException, Query, Request

from campaigns.registry.enums import Channel, Medium
from campaigns.reports.filters import FilterError, ReportFilter, parse_day
from outreach.core.deps import get_ctx

DEFAULT_DAYS = 30


def _choice(value: str | None, allowed: type[Channel] | type[Medium], name: str) -> str | None:
    if not value:
        return None
    if value not in {m.value for m in allowed}:
        raise HTTPException(422, f"unknown {name} {value!r}")
    return value


def report_filter(
    request: Request,
    start: Annotated[str | None, Query(alias="from", description="first day, YYYY-MM-DD")] = None,
    end: Annotated[str | None, Query(alias="to", description="last day, YYYY-MM-DD")] = None,
    campaign: Annotated[str | None, Query(max_length=64)] = None,
    medium: Annotated[str | None, Query(max_length=16)] = None,
    region: Annotated[str | None, Query(max_length=100)] = None,
    language: Annotated[str | None, Query(max_length=8)] = None,
    channel: Annotated[str | None, Query(max_length=16)] = None,
) -> ReportFilter:
    """Builds a filter; the range defaults to the last 30 local days."""
    ctx = get_ctx(request)
    today = ctx.clock().astimezone(ZoneInfo(ctx.settings.default_timezone)).date()
    try:
        last = parse_day(end, default=today)
        first = parse_day(start, default=last - timedelta(days=DEFAULT_DAYS - 1))
    except FilterError as exc:
        raise HTTPException(422, str(exc)) from exc
    if last < first:
        raise HTTPException(422, "'to' is before 'from'")
    return ReportFilter(
        start=first,
        end=last,
        campaign=campaign or None,
        medium=_choice(medium, Medium, "medium"),
        region=region or None,
        language=language or None,
        channel=_choice(channel, Channel, "channel"),
    )


FilterDep = Annotated[ReportFilter, Depends(report_filter)]
