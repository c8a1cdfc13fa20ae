"""Airings over JSON: list, record, delete and CSV import."""

from __future__ import annotations

from datetime import UTC
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Body, Depends, HTTPException, Path, Response
from pydantic import AwareDatetime, BaseModel, Field

from campaigns.airings import service as airings
from campaigns.airings.service import MAX_ID, Airing, AiringError
from campaigns.audit.service import Actor, Interface
from campaigns.reports.filters import FilterError, resolve
from outreach.core.deps import CtxDep, SessionDep
from outreach.web.api.errors import invalid, responses
from outreach.web.api.params import FilterDep
from outreach.web.auth.web import ApiManager, ApiUser, api_user

router = APIRouter(prefix="/api/airings", tags=["airings"], dependencies=[Depends(api_user)])


class AiringIn(BaseModel):
    campaign: str = Field(max_length=64)
    station: str = Field(min_length=1, max_length=100)
    aired_at: AwareDatetime = Field(
        description="ISO 8601 with an offset, e.g. 2027-02-01T08:00:00+04:00 (2000 to 2099)"
    )
    duration_seconds: int = Field(default=30, ge=1, le=3600)


class AiringOut(BaseModel):
    id: int
    campaign: str
    station: str
    aired_at: str = Field(description="UTC, ISO 8601", json_schema_extra={"format": "date-time"})
    duration_seconds: int


class ImportResult(BaseModel):
    added: int
    problems: list[str] = Field(description="one line per skipped CSV row, with its line number")


def to_out(a: Airing) -> AiringOut:
    return AiringOut(
        id=a.id,
        campaign=a.campaign.code,
        station=a.station,
        aired_at=a.aired_at.astimezone(UTC).isoformat(),
        duration_seconds=a.duration_seconds,
    )


@router.get("", summary="List airings in a date range", responses=responses(404))
def list_airings(
    flt: FilterDep, user: ApiUser, session: SessionDep, ctx: CtxDep
) -> list[AiringOut]:
    try:
        scope = resolve(session, flt, zone=ZoneInfo(ctx.settings.default_timezone))
    except FilterError as exc:
        if flt.campaign and "unknown campaign" in str(exc):
            raise HTTPException(404, str(exc)) from exc
        raise invalid(("query",), str(exc)) from exc
    rows = airings.list_between(
        session, start=scope.utc_start, end=scope.utc_end, campaign_ids=scope.campaign_ids
    )
    return [to_out(a) for a in rows]


@router.post(
    "", status_code=201, summary="Record an airing (managers)", responses=responses(400, 403, 413)
)
def create_airing(body: AiringIn, user: ApiManager, session: SessionDep) -> AiringOut:
    try:
        airing = airings.create(
            session,
            campaign_code=body.campaign,
            station=body.station,
            aired_at=body.aired_at,
            duration_seconds=body.duration_seconds,
            actor=Actor(user.username, Interface.API),
        )
    except AiringError as exc:
        raise invalid(("body",), str(exc)) from exc
    return to_out(airing)


@router.post(
    "/import",
    summary="Import airings from CSV text (managers)",
    responses=responses(400, 403, 413),
)
def import_airings(
    user: ApiManager,
    session: SessionDep,
    text: Annotated[str, Body(media_type="text/csv", max_length=2_000_000)],
) -> ImportResult:
    try:
        added, problems = airings.import_csv(
            session, text=text, actor=Actor(user.username, Interface.API)
        )
    except AiringError as exc:
        raise invalid(("body",), str(exc)) from exc
    return ImportResult(added=added, problems=problems)


@router.delete(
    "/{airing_id}",
    status_code=204,
    summary="Delete an airing (managers)",
    responses=responses(403, 404),
)
def delete_airing(
    airing_id: Annotated[int, Path(ge=1, le=MAX_ID)], user: ApiManager, session: SessionDep
) -> Response:
    if not airings.delete(session, airing_id=airing_id, actor=Actor(user.username, Interface.API)):
        raise HTTPException(404, "no such airing")
    return Response(status_code=204)
