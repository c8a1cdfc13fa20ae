"""Which voice flow a dialed number reaches, and which campaign owns each PSA code."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.flows.service import attached_version
from campaigns.registry.cache import psa_campaigns as psa_campaigns
from campaigns.registry.flows import flow_file
from campaigns.registry.models import Campaign, CampaignNumber, Hotline
from ivr_flows.loader import FlowError, FlowPathError
from ivr_flows.model import Issue
from outreach.core.context import AppContext


@dataclass(frozen=True)
class Line:
    """What a dialed number leads to: a campaign's or a hotline's flow."""

    number: str
    flow_file: Path | None
    timezone: str
    campaign: Campaign | None = None
    hotline: Hotline | None = None
    missed_call_callback: bool = False
    # The stored flow's live version (None: the flow file on disk, not imported yet).
    flow_version_id: int | None = None
    simulated: bool = False


def _live(attached: tuple[str, int | None] | None) -> int | None:
    """The live version id of an attached stored flow; an unpublished one is an error."""
    if attached is None:
        return None
    key, version_id = attached
    if version_id is None:
        raise FlowError(key, [Issue("(flow)", f"stored flow {key!r} has no live version")])
    return version_id


def _file(options: dict[str, object], relative: object, ctx: AppContext) -> Path | None:
    return _flow_path(options, str(relative), ctx) if relative else None


def _flow_path(options: dict[str, object], relative: str, ctx: AppContext) -> Path:
    """The flow file inside its flows folder; a reference that escapes it is refused here too."""
    try:
        return flow_file(dict(options), relative, ctx.settings)
    except FlowPathError as exc:
        raise FlowError(relative, [Issue("(file)", str(exc))]) from exc


def find_line(session: Session, ctx: AppContext, number: str) -> Line | None:
    """Finds the campaign (tracking number with a voice flow) or hotline a number reaches."""
    campaigns = session.scalars(
        select(Campaign)
        .join(CampaignNumber)
        .where(CampaignNumber.number == number, Campaign.archived.is_(False))
        .order_by(Campaign.id)
    ).all()
    for campaign in campaigns:
        voice = campaign.options.get("voice")
        voice = voice if isinstance(voice, dict) else {}
        stored = _live(attached_version(session, campaign_id=campaign.id))
        if stored or voice.get("flow"):
            return Line(
                number=number,
                flow_file=None if stored else _file(campaign.options, voice.get("flow"), ctx),
                timezone=campaign.timezone,
                campaign=campaign,
                missed_call_callback=bool(voice.get("missed_call_callback")),
                flow_version_id=stored,
            )
    hotline = session.scalar(select(Hotline).where(Hotline.number == number))
    stored = _live(attached_version(session, hotline_id=hotline.id)) if hotline else None
    if hotline is not None and (stored or hotline.options.get("flow")):
        return Line(
            number=number,
            flow_file=None if stored else _file(hotline.options, hotline.options.get("flow"), ctx),
            timezone=str(hotline.options.get("timezone") or ctx.settings.default_timezone),
            hotline=hotline,
            flow_version_id=stored,
        )
    return None
