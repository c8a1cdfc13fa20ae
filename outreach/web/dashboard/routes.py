"""Dashboard pages; every number comes from the same report service as the API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select

from campaigns.airings import service as airings
from campaigns.airings.service import AiringError
from campaigns.audit.service import Actor, Interface
from campaigns.registry import documents
from campaigns.registry import service as registry
from campaigns.registry.enums import Channel, Medium
from campaigns.registry.models import Campaign
from campaigns.registry.schemas import CampaignSpec, parse_cost
from campaigns.reports.filters import ReportFilter
from outreach.core.deps import SessionDep
from outreach.web.api.errors import invalid
from outreach.web.api.reports import ByQuery
from outreach.web.api.runner import PageRunner
from outreach.web.auth.models import Role
from outreach.web.auth.web import PageUser, check_csrf, csrf_token, exact_for, page_user
from outreach.web.dashboard import charts
from outreach.web.dashboard.funnel import funnel_rows
from outreach.web.pages import page_language, render

router = APIRouter(prefix="/dashboard", include_in_schema=False, dependencies=[Depends(page_user)])


def _page(
    request: Request, name: str, user: Any, flt: ReportFilter, session: Any, **extra: Any
) -> Response:
    campaigns = list(session.scalars(select(Campaign).order_by(Campaign.code)))
    context = {
        "user": user,
        "manager": user.role == Role.MANAGER,
        "csrf": csrf_token(request),
        "flt": flt,
        "campaigns": campaigns,
        "media": [m.value for m in Medium],
        "channels": [c.value for c in Channel],
        "regions": sorted({c.region for c in campaigns if c.region}),
        "exact": exact_for(user),
        "page": name,
        "k": request.app.state.ctx.settings.small_cell_k,
        "base": request.app.state.ctx.settings.report_rounding_base,
        **extra,
    }
    return render(request, f"dashboard/{name}.html", context)


@router.get("", response_class=HTMLResponse)
def overview(request: Request, runner: PageRunner, user: PageUser) -> Response:
    report = runner.report()
    table = runner.channels()
    return _page(
        request,
        "overview",
        user,
        runner.flt,
        runner.session,
        report=report,
        table=table,
        charts={"daily": charts.daily(report), "channels": charts.channels(table)},
    )


@router.get("/campaigns/{code}", response_class=HTMLResponse)
def campaign_page(code: str, request: Request, runner: PageRunner, user: PageUser) -> Response:
    campaign = runner.session.scalar(select(Campaign).where(Campaign.code == code))
    if campaign is None:
        raise HTTPException(404, "unknown campaign")
    scoped = runner.scoped(code)
    report = scoped.report()
    language = page_language(request, user)
    rows = funnel_rows(campaign, report.funnel, request.app.state.ctx.settings, language)
    return _page(
        request,
        "campaign",
        user,
        scoped.flt,
        runner.session,
        campaign=campaign,
        report=report,
        funnel=rows,
        charts={
            "funnel": charts.funnel(rows),
            "topics": charts.topics(report),
            "daily": charts.daily(report),
        },
    )


@router.post("/campaigns/{code}")
def edit_campaign(
    code: str,
    request: Request,
    user: PageUser,
    session: SessionDep,
    name: Annotated[str, Form(min_length=1, max_length=200)],
    cost: Annotated[str, Form(max_length=20)] = "",
    csrf_token_field: Annotated[str, Form(alias="csrf_token")] = "",
) -> Response:
    check_csrf(request, csrf_token_field)
    if user.role != Role.MANAGER:
        raise HTTPException(403, "managers only")
    campaign = session.scalar(select(Campaign).where(Campaign.code == code))
    if campaign is None:
        raise HTTPException(404, "unknown campaign")
    try:
        # The API's and the YAML file's rule: finite, not negative, fits the column.
        new_cost = parse_cost(cost)
    except ValidationError as exc:
        reason = exc.errors()[0]["msg"] if exc.errors() else "invalid"
        raise invalid(("body", "cost"), reason) from exc
    doc = {**documents.document(campaign), "name": name.strip(), "cost": new_cost}
    try:
        with session.begin_nested():
            registry.save_campaign(
                session,
                CampaignSpec.model_validate(doc),
                flows_root=None,
                default_timezone=campaign.timezone,
                actor=Actor(user.username, Interface.BROWSER),
                existing=campaign,
            )
    except (ValidationError, registry.InvalidCampaign) as exc:
        raise HTTPException(422, str(exc)) from exc
    return RedirectResponse(f"/dashboard/campaigns/{code}", status_code=303)


@router.get("/channels", response_class=HTMLResponse)
def channels_page(
    request: Request, runner: PageRunner, user: PageUser, by: ByQuery = "medium"
) -> Response:
    table = runner.channels(by)
    return _page(
        request,
        "channels",
        user,
        runner.flt,
        runner.session,
        table=table,
        charts={"channels": charts.channels(table)},
    )


@router.get("/lift", response_class=HTMLResponse)
def lift_page(
    request: Request,
    runner: PageRunner,
    user: PageUser,
    before: int | None = None,
    after: int | None = None,
) -> Response:
    if any(w is not None and not 1 <= w <= 240 for w in (before, after)):
        raise HTTPException(422, "windows must be between 1 and 240 minutes")
    lift = runner.lift(before=before, after=after)
    return _page(
        request,
        "lift",
        user,
        runner.flt,
        runner.session,
        lift=lift,
        charts={"curves": charts.lift_curves(lift), "excess": charts.lift_excess(lift)},
    )


@router.post("/airings")
def add_airing(
    request: Request,
    user: PageUser,
    session: SessionDep,
    campaign: Annotated[str, Form(max_length=64)],
    station: Annotated[str, Form(max_length=100)],
    aired_at: Annotated[str, Form(max_length=40)],
    duration_seconds: Annotated[int, Form(ge=1, le=3600)] = 30,
    csrf_token_field: Annotated[str, Form(alias="csrf_token")] = "",
) -> Response:
    check_csrf(request, csrf_token_field)
    if user.role != Role.MANAGER:
        raise HTTPException(403, "managers only")
    row = session.scalar(select(Campaign).where(Campaign.code == campaign))
    try:
        when: datetime = airings.parse_time(aired_at, timezone=row.timezone if row else "UTC")
        airings.create(
            session,
            campaign_code=campaign,
            station=station,
            aired_at=when,
            duration_seconds=duration_seconds,
            actor=Actor(user.username, Interface.BROWSER),
        )
    except AiringError as exc:
        raise HTTPException(422, str(exc)) from exc
    return RedirectResponse("/dashboard/lift", status_code=303)


@router.get("/airings/{airing_id}/delete", response_class=HTMLResponse)
def confirm_airing_delete(
    airing_id: int, request: Request, user: PageUser, session: SessionDep
) -> Response:
    if user.role != Role.MANAGER:
        raise HTTPException(403, "managers only")
    airing = session.get(airings.Airing, airing_id)
    if airing is None:
        raise HTTPException(404, "unknown airing")
    context = {"user": user, "csrf": csrf_token(request), "page": "lift", "airing": airing}
    return render(request, "dashboard/airing_delete.html", context)


@router.post("/airings/{airing_id}/delete")
def remove_airing(
    airing_id: int,
    request: Request,
    user: PageUser,
    session: SessionDep,
    csrf_token_field: Annotated[str, Form(alias="csrf_token")] = "",
) -> Response:
    check_csrf(request, csrf_token_field)
    if user.role != Role.MANAGER:
        raise HTTPException(403, "managers only")
    airings.delete(session, airing_id=airing_id, actor=Actor(user.username, Interface.BROWSER))
    return RedirectResponse("/dashboard/lift", status_code=303)
