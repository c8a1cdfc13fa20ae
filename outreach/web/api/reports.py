"""Report endpoints: campaign report, channel comparison, airing lift and CSV/FLOIP exports."""

from __future__ import annotations

from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response

from campaigns.reports import csvexport, floip
from campaigns.reports.filters import FilterError, resolve
from campaigns.reports.schemas import (
    CampaignReport,
    ChannelTable,
    FloipPackage,
    FloipResponses,
    LiftReport,
)
from ivr_flows.model import Flow
from outreach.core.deps import CtxDep, SessionDep
from outreach.web.api.params import FilterDep
from outreach.web.api.runner import ApiRunner
from outreach.web.auth.web import ApiManager, api_user

# What a row of the channel comparison is: a medium or a campaign.
ByQuery = Annotated[
    Literal["medium", "campaign"], Query(description="a row per medium or campaign")
]

router = APIRouter(prefix="/api", tags=["reports"], dependencies=[Depends(api_user)])


@router.get("/reports/summary", summary="Reach report of any filter", response_model=CampaignReport)
def summary(runner: ApiRunner) -> CampaignReport:
    return runner.report()


@router.get(
    "/campaigns/{code}/report",
    summary="Reach report of one campaign",
    response_model=CampaignReport,
)
def campaign_report(code: str, runner: ApiRunner) -> CampaignReport:
    return runner.scoped(code).report()


@router.get(
    "/reports/channels",
    summary="Channel reach comparison across media or campaigns",
    response_model=ChannelTable,
)
def channels(runner: ApiRunner, by: ByQuery = "medium") -> ChannelTable:
    return runner.channels(by)


@router.get(
    "/reports/lift", summary="Airing lift per airing and per station", response_model=LiftReport
)
def lift(
    runner: ApiRunner,
    before: Annotated[int | None, Query(ge=1, le=240)] = None,
    after: Annotated[int | None, Query(ge=1, le=240)] = None,
) -> LiftReport:
    return runner.lift(before=before, after=after)


@router.get(
    "/exports/{kind}.csv",
    summary="A report as CSV (summary, channels, funnel, topics, daily, lift, stations)",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "The table as CSV"}},
)
def export_csv(kind: str, runner: ApiRunner, by: ByQuery = "medium") -> Response:
    if kind not in csvexport.KINDS:
        raise HTTPException(404, f"unknown export {kind!r}; try {', '.join(csvexport.KINDS)}")
    if kind == "channels":
        body = csvexport.render(kind, runner.channels(by))
    elif kind in ("lift", "stations"):
        body = csvexport.render(kind, runner.lift())
    else:
        body = csvexport.render(kind, runner.report())
    name = f"outreach-{kind}-{runner.flt.start}-{runner.flt.end}.csv"
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _flow(session: SessionDep, flow_id: str) -> Flow:
    try:
        return floip.find_flow(session, flow_id)
    except floip.UnknownFlow as exc:
        raise HTTPException(404, str(exc)) from exc


@router.get(
    "/exports/floip/{flow_id}",
    summary="FLOIP Flow Results descriptor (managers)",
    response_model=FloipPackage,
)
def floip_descriptor(
    flow_id: str,
    request: Request,
    flt: FilterDep,
    user: ApiManager,
    session: SessionDep,
    ctx: CtxDep,
) -> FloipPackage:
    flow = _flow(session, flow_id)
    url = str(request.url_for("floip_responses", flow_id=flow_id))
    query = f"?from={flt.start}&to={flt.end}"
    return floip.descriptor(flow, now=ctx.clock(), api_data_url=url + query)


@router.get(
    "/exports/floip/{flow_id}/responses",
    summary="FLOIP responses (managers)",
    response_model=FloipResponses,
)
def floip_responses(
    flow_id: str, flt: FilterDep, user: ApiManager, session: SessionDep, ctx: CtxDep
) -> FloipResponses:
    flow = _flow(session, flow_id)
    try:
        scope = resolve(session, flt, zone=ZoneInfo(ctx.settings.default_timezone))
    except FilterError as exc:
        raise HTTPException(422, str(exc)) from exc
    rows = floip.rows(session, flow=flow, start=scope.utc_start, end=scope.utc_end)
    return floip.responses(flow, rows)
