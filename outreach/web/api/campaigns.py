"""Campaign CRUD over JSON, the same schema as an entry of the campaigns YAML file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.registry import service as registry
from campaigns.registry.models import Campaign
from campaigns.registry.schemas import CampaignSpec
from outreach.core.deps import CtxDep, SessionDep
from outreach.core.settings import Settings
from outreach.web.auth.web import ApiManager, ApiUser, api_user

router = APIRouter(prefix="/api/campaigns", tags=["campaigns"], dependencies=[Depends(api_user)])


def to_json(c: Campaign) -> dict[str, Any]:
    return {
        "code": c.code,
        "name": c.name,
        "medium": str(c.medium),
        "region": c.region,
        "languages": list(c.languages),
        "start": c.start_date.isoformat(),
        "end": c.end_date.isoformat(),
        "cost": float(c.cost) if c.cost is not None else None,
        "currency": c.currency,
        "timezone": c.timezone,
        "numbers": [n.number for n in c.numbers],
        "keywords": [{"keyword": k.keyword, "language": k.language} for k in c.keywords],
        "replies": dict(c.replies),
        "psa_codes": list(c.options.get("psa_codes", [])),
        "voice": c.options.get("voice"),
    }


def _get(session: Session, code: str) -> Campaign:
    campaign = session.scalar(select(Campaign).where(Campaign.code == code))
    if campaign is None:
        raise HTTPException(404, f"unknown campaign {code!r}")
    return campaign


def _source_dir(settings: Settings) -> Path:
    # Relative voice flow paths resolve against the campaigns file, as when loading YAML.
    return Path(settings.campaigns_file).resolve().parent if settings.campaigns_file else Path.cwd()


def _check(spec: CampaignSpec) -> None:
    if spec.end < spec.start:
        raise HTTPException(422, "end is before start")


@router.get("", summary="List campaigns")
def list_campaigns(user: ApiUser, session: SessionDep) -> list[dict[str, Any]]:
    return [to_json(c) for c in session.scalars(select(Campaign).order_by(Campaign.code))]


@router.get("/{code}", summary="Read a campaign")
def read_campaign(code: str, user: ApiUser, session: SessionDep) -> dict[str, Any]:
    return to_json(_get(session, code))


@router.post("", status_code=201, summary="Create a campaign (managers)")
def create_campaign(
    spec: CampaignSpec, user: ApiManager, session: SessionDep, ctx: CtxDep
) -> dict[str, Any]:
    _check(spec)
    if session.scalar(select(Campaign.id).where(Campaign.code == spec.code)) is not None:
        raise HTTPException(409, f"campaign {spec.code!r} exists")
    campaign = registry.create_campaign(session, spec, source_dir=_source_dir(ctx.settings))
    session.flush()
    return to_json(campaign)


@router.put("/{code}", summary="Replace a campaign (managers)")
def update_campaign(
    code: str, spec: CampaignSpec, user: ApiManager, session: SessionDep, ctx: CtxDep
) -> dict[str, Any]:
    _check(spec)
    if spec.code != code:
        raise HTTPException(422, "the code in the body differs from the URL")
    campaign = _get(session, code)
    registry.update_campaign(campaign, spec, source_dir=_source_dir(ctx.settings))
    session.flush()
    return to_json(campaign)


@router.delete("/{code}", status_code=204, summary="Delete a campaign (managers)")
def delete_campaign(code: str, user: ApiManager, session: SessionDep) -> Response:
    session.delete(_get(session, code))
    session.flush()
    return Response(status_code=204)
