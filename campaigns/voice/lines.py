"""Which voice flow a dialed number reaches, and which campaign owns each PSA code."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

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
    flow_file: Path
    timezone: str
    campaign: Campaign | None = None
    hotline: Hotline | None = None
    missed_call_callback: bool = False


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
        .where(CampaignNumber.number == number)
        .order_by(Campaign.id)
    ).all()
    for campaign in campaigns:
        voice = campaign.options.get("voice")
        if isinstance(voice, dict) and voice.get("flow"):
            return Line(
                number=number,
                flow_file=_flow_path(campaign.options, str(voice["flow"]), ctx),
                timezone=campaign.timezone,
                campaign=campaign,
                missed_call_callback=bool(voice.get("missed_call_callback")),
            )
    hotline = session.scalar(select(Hotline).where(Hotline.number == number))
    if hotline is not None and hotline.options.get("flow"):
        return Line(
            number=number,
            flow_file=_flow_path(hotline.options, str(hotline.options["flow"]), ctx),
            timezone=str(hotline.options.get("timezone") or ctx.settings.default_timezone),
            hotline=hotline,
        )
    return None
