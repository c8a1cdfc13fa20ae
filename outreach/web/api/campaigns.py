"""Campaign CRUD over JSON, the same schema as an entry of the campaigns YAML file.

A saved campaign goes through the one campaigns validator (the rules of
`outreach campaigns validate`) against the other campaigns in the database; a refusal is a 422
listing every problem with its field path. GET returns the document that PUT accepts unchanged.
Every document carries its `version`: a PUT naming an older one is refused with 409 (nothing is
lost). Every change is recorded in the audit log.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from campaigns.audit.service import Actor, Interface
from campaigns.registry import documents
from campaigns.registry import service as registry
from campaigns.registry.changes import StaleVersion
from campaigns.registry.flows import configured_root
from campaigns.registry.models import Campaign
from campaigns.registry.schemas import CampaignSpec
from campaigns.registry.service import InvalidCampaign
from campaigns.registry.validation import errors_of
from outreach.core.context import AppContext
from outreach.core.deps import CtxDep, SessionDep
from outreach.web.api.errors import invalid, invalid_problems, responses
from outreach.web.auth.models import User
from outreach.web.auth.web import ApiManager, ApiUser, api_user

router = APIRouter(prefix="/api/campaigns", tags=["campaigns"], dependencies=[Depends(api_user)])

Code = Annotated[str, Path(max_length=64, description="the campaign's code")]


def to_spec(campaign: Campaign) -> CampaignSpec:
    """The campaign as the document GET returns and PUT takes back unchanged."""
    try:
        return CampaignSpec.model_validate(documents.document(campaign))
    except ValidationError as exc:
        # A row saved before today's rules: a conflict the manager resolves with a PUT (or by
        # loading its file again), never a server error.
        raise HTTPException(
            409,
            f"stored campaign {campaign.code!r} breaks today's rules; save a corrected document "
            "with PUT: " + "; ".join(map(str, errors_of(exc))),
        ) from exc


def _get(session: Session, code: str) -> Campaign:
    campaign = registry.get_campaign(session, code)
    if campaign is None:
        raise HTTPException(404, f"unknown campaign {code!r}")
    return campaign


def _save(
    session: Session, ctx: AppContext, spec: CampaignSpec, existing: Campaign | None, user: User
) -> Campaign:
    try:
        with session.begin_nested():
            return registry.save_campaign(
                session,
                spec,
                flows_root=configured_root(ctx.settings),
                default_timezone=ctx.settings.default_timezone,
                actor=Actor(user.username, Interface.API),
                existing=existing,
            )
    except InvalidCampaign as exc:
        raise invalid_problems(exc.problems) from exc
    except StaleVersion as exc:
        raise HTTPException(409, str(exc)) from exc
    except StaleDataError as exc:  # another save of the same version committed first
        raise HTTPException(
            409, f"campaign {spec.code} was changed by another save at the same moment; reload it"
        ) from exc
    except IntegrityError as exc:  # the same code created at the same moment
        raise HTTPException(409, f"campaign {spec.code!r} exists") from exc
    except OperationalError as exc:  # waited too long for another save of the same campaign
        raise HTTPException(409, f"campaign {spec.code!r} is being saved; try again") from exc


@router.get("", summary="List campaigns")
def list_campaigns(user: ApiUser, session: SessionDep) -> list[CampaignSpec]:
    return [to_spec(c) for c in session.scalars(select(Campaign).order_by(Campaign.code))]


@router.get("/{code}", summary="Read a campaign", responses=responses(404))
def read_campaign(code: Code, user: ApiUser, session: SessionDep) -> CampaignSpec:
    return to_spec(_get(session, code))


@router.post(
    "",
    status_code=201,
    summary="Create a campaign (managers)",
    responses=responses(400, 403, 409, 413),
)
def create_campaign(
    spec: CampaignSpec, user: ApiManager, session: SessionDep, ctx: CtxDep
) -> CampaignSpec:
    if registry.get_campaign(session, spec.code) is not None:
        raise HTTPException(409, f"campaign {spec.code!r} exists")
    return to_spec(_save(session, ctx, spec, None, user))


@router.put(
    "/{code}",
    summary="Replace a campaign (managers)",
    responses=responses(400, 403, 404, 409, 413),
)
def update_campaign(
    code: Code, spec: CampaignSpec, user: ApiManager, session: SessionDep, ctx: CtxDep
) -> CampaignSpec:
    if spec.code != code:
        raise invalid(("body", "code"), "the code in the body differs from the URL")
    return to_spec(_save(session, ctx, spec, _get(session, code), user))


@router.delete(
    "/{code}",
    status_code=204,
    summary="Delete a campaign (managers)",
    responses=responses(403, 404),
)
def delete_campaign(code: Code, user: ApiManager, session: SessionDep) -> Response:
    registry.delete_campaign(
        session, _get(session, code), actor=Actor(user.username, Interface.API)
    )
    return Response(status_code=204)
