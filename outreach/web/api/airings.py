"""Airings over JSON: list, record, delete and CSV import."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Body, Depends, HTTPException, Response
from pydantic import BaseModel, Field

from campaigns.airings import service as airings
from campaigns.airings.service import Airing, AiringError
from campaigns.reports.filters import resolve
from outreach.core.deps import CtxDep, SessionDep
from outreach.web.api.params import FilterDep
from outreach.web.auth.web import ApiManager, ApiUser, api_user

router = APIRouter(prefix="/api/airings", tags=["airings"], dependencies=[Depends(api_user)])


class AiringIn(BaseModel):
    campaign: str = Field(max_length=64)
    station: str = Field(min_length=1, max_length=100)
    aired_at: datetime = Field(
        description="ISO 8601 with an offset, e.g. 2027-02-01T08:00:00+04:00"
    )
    duration_seconds: int = Field(default=30, ge=1, le=3600)


def to_json(a: Airing) -> dict[str, Any]:
    return {
        "id": a.id,
        "campaign": a.campaign.code,
        "station": a.station,
        "aired_at": a.aired_at.astimezone(UTC).isoformat(),
        "duration_seconds": a.duration_seconds,
    }


@router.get("", summary="List airings in a date range")
def list_airings(
    flt: FilterDep, user: ApiUser, session: SessionDep, ctx: CtxDep
) -> list[dict[str, Any]]:

    scope = resolve(session, flt, zone=ZoneInfo(ctx.settings.default_timezone))
    rows = airings.list_between(
        session, start=scope.utc_start, end=scope.utc_end, campaign_ids=scope.campaign_ids
    )
    return [to_json(a) for a in rows]


@router.post("", status_code=201, summary="Record an airing (managers)")
def create_airing(body: AiringIn, user: ApiManager, session: SessionDep) -> dict[str, Any]:
    if body.aired_at.tzinfo is None:
        raise HTTPException(422, "aired_at needs an offset")
    try:
        airing = airings.create(
            session,
            campaign_code=body.campaign,
            station=body.station,
            aired_at=body.aired_at,
            duration_seconds=body.duration_seconds,
        )
    except AiringError as exc:
        raise HTTPException(422, str(exc)) from exc
    return to_json(airing)


@router.post("/import", summary="Import airings from CSV text (managers)")
def import_airings(
    user: ApiManager,
    session: SessionDep,
    text: Annotated[str, Body(media_type="text/csv", max_length=2_000_000)],
) -> dict[str, Any]:
    try:
        added, problems = airings.import_csv(session, text=text)
    except AiringError as exc:
        raise HTTPException(422, str(exc)) from exc
    return {"added": added, "problems": problems}


@router.delete("/{airing_id}", status_code=204, summary="Delete an airing (managers)")
def delete_airing(airing_id: int, user: ApiManager, session: SessionDep) -> Response:
    if not airings.delete(session, airing_id=airing_id):
        raise HTTPException(404, "no such airing")
    return Response(status_code=204)
