"""Query parameters shared by report endpoints and pages.

Dates are ISO days between 2000-01-01 and 2099-12-31 (campaigns/registry/schemas.py `Day`), and
enumerations are declared as such; an empty value (a blank form field) means "not given".
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Depends, Query, Request
from pydantic import BeforeValidator

from campaigns.registry.enums import Channel, Language, Medium
from campaigns.registry.schemas import EARLIEST_DAY, LATEST_DAY, Day
from campaigns.reports.filters import ReportFilter
from outreach.core.deps import get_ctx
from outreach.web.api.errors import invalid

DEFAULT_DAYS = 30
_RANGE = f"{EARLIEST_DAY} to {LATEST_DAY}"


def _blank(value: Any) -> Any:
    return None if value == "" else value


def report_filter(
    request: Request,
    start: Annotated[
        Day | None,
        BeforeValidator(_blank),
        Query(alias="from", description=f"first day, YYYY-MM-DD ({_RANGE})"),
    ] = None,
    end: Annotated[
        Day | None,
        BeforeValidator(_blank),
        Query(alias="to", description=f"last day, YYYY-MM-DD ({_RANGE}); default today"),
    ] = None,
    campaign: Annotated[str | None, Query(max_length=64)] = None,
    medium: Annotated[Medium | None, BeforeValidator(_blank), Query()] = None,
    region: Annotated[str | None, Query(max_length=100)] = None,
    language: Annotated[Language | None, BeforeValidator(_blank), Query()] = None,
    channel: Annotated[Channel | None, BeforeValidator(_blank), Query()] = None,
) -> ReportFilter:
    """Builds a filter; the range defaults to the last 30 local days."""
    ctx = get_ctx(request)
    today = ctx.clock().astimezone(ZoneInfo(ctx.settings.default_timezone)).date()
    last = end or min(today, LATEST_DAY)
    first = start or last - timedelta(days=DEFAULT_DAYS - 1)
    if last < first:
        raise invalid(("query", "to"), "'to' is before 'from'")
    return ReportFilter(
        start=first,
        end=last,
        campaign=campaign or None,
        medium=medium.value if medium else None,
        region=region or None,
        language=language.value if language else None,
        channel=channel.value if channel else None,
    )


FilterDep = Annotated[ReportFilter, Depends(report_filter)]
