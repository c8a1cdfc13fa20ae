"""One place that runs the report service for a request, shared by the API and the dashboard."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import Depends, HTTPException
from sqlalchemy.orm import Session

from campaigns.reports import service
from campaigns.reports.filters import FilterError, ReportFilter
from campaigns.reports.schemas import CampaignReport, ChannelTable, LiftReport
from outreach.core.context import AppContext
from outreach.core.deps import CtxDep, SessionDep
from outreach.core.settings import Settings
from outreach.web.api.params import FilterDep
from outreach.web.auth.models import User
from outreach.web.auth.web import ApiUser, PageUser, exact_for

T = TypeVar("T")

# The API also turns service ValueErrors (bad windows and the like) into 422s; the
# dashboard only maps filter errors and lets anything else surface as a server error.
API_ERRORS: tuple[type[ValueError], ...] = (ValueError,)
PAGE_ERRORS: tuple[type[ValueError], ...] = (FilterError,)


def http_error(exc: ValueError) -> HTTPException:
    """Map a report error to 404 for an unknown campaign and 422 otherwise."""
    unknown = isinstance(exc, FilterError) and "unknown campaign" in str(exc)
    return HTTPException(404 if unknown else 422, str(exc))


@dataclass(frozen=True)
class ReportRunner:
    """Runs report, channels and lift for one request's filter and reader."""

    session: Session
    settings: Settings
    flt: ReportFilter
    now: datetime
    exact: bool
    catches: tuple[type[ValueError], ...]

    @classmethod
    def of(
        cls,
        session: Session,
        ctx: AppContext,
        user: User,
        flt: ReportFilter,
        *,
        catches: tuple[type[ValueError], ...],
    ) -> ReportRunner:
        """Build a runner for this request; one clock reading serves every report it runs."""
        return cls(session, ctx.settings, flt, ctx.clock(), exact_for(user), catches)

    def scoped(self, code: str) -> ReportRunner:
        """Return a runner whose filter is narrowed to one campaign."""
        return replace(self, flt=replace(self.flt, campaign=code))

    def run(self, fn: Callable[..., T], **extra: Any) -> T:
        """Run one report service function, mapping the caught errors to HTTP errors."""
        try:
            return fn(
                session=self.session,
                settings=self.settings,
                flt=self.flt,
                now=self.now,
                exact=self.exact,
                **extra,
            )
        except self.catches as exc:
            raise http_error(exc) from exc

    def report(self) -> CampaignReport:
        """Return the reach report."""
        return self.run(service.report)

    def channels(self, by: str = "medium") -> ChannelTable:
        """Return the channel comparison, a row per medium or per campaign."""
        return self.run(service.channels, by=by)

    def lift(self, *, before: int | None = None, after: int | None = None) -> LiftReport:
        """Return the airing lift with optional window overrides in minutes."""
        return self.run(service.airing_lift, before=before, after=after)


def api_runner(flt: FilterDep, user: ApiUser, session: SessionDep, ctx: CtxDep) -> ReportRunner:
    """Build the API's runner: errors become JSON HTTP errors."""
    return ReportRunner.of(session, ctx, user, flt, catches=API_ERRORS)


def page_runner(flt: FilterDep, user: PageUser, session: SessionDep, ctx: CtxDep) -> ReportRunner:
    """Build the dashboard's runner: only filter errors are mapped."""
    return ReportRunner.of(session, ctx, user, flt, catches=PAGE_ERRORS)


ApiRunner = Annotated[ReportRunner, Depends(api_runner)]
PageRunner = Annotated[ReportRunner, Depends(page_runner)]
