"""Which voice flow a dialed number reaches, and which campaign owns each PSA code."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from campaigns.flows.models import FlowAttachment, StoredFlow
from campaigns.registry.cache import TOKEN_COLUMN, token_read
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
    campaign_id: int | None = None
    hotline_id: int | None = None
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


# The candidates of a dialed number, built once, each with the stored flow attached to it (if
# any): the columns a Line needs, not whole rows, in one statement each.
_CAMPAIGN_LINES = (
    select(
        Campaign.id,
        Campaign.options,
        Campaign.timezone,
        StoredFlow.key,
        StoredFlow.live_version_id,
        TOKEN_COLUMN,  # the registry's, read with the lines (see cache.token_read)
    )
    .join(CampaignNumber)
    .outerjoin(FlowAttachment, FlowAttachment.campaign_id == Campaign.id)
    .outerjoin(StoredFlow, StoredFlow.id == FlowAttachment.flow_id)
    .where(CampaignNumber.number == bindparam("number"), Campaign.archived.is_(False))
    .order_by(Campaign.id)
)
_HOTLINE_LINE = (
    select(Hotline.id, Hotline.options, StoredFlow.key, StoredFlow.live_version_id)
    .outerjoin(FlowAttachment, FlowAttachment.hotline_id == Hotline.id)
    .outerjoin(StoredFlow, StoredFlow.id == FlowAttachment.flow_id)
    .where(Hotline.number == bindparam("number"))
)


def _attached(key: str | None, version_id: int | None) -> tuple[str, int | None] | None:
    return None if key is None else (key, version_id)


def find_line(session: Session, ctx: AppContext, number: str) -> Line | None:
    """Finds the campaign (tracking number with a voice flow) or hotline a number reaches."""
    for campaign_id, options, timezone, key, version_id, token in session.execute(
        _CAMPAIGN_LINES, {"number": number}
    ):
        token_read(session, token)
        voice = options.get("voice")
        voice = voice if isinstance(voice, dict) else {}
        stored = _live(_attached(key, version_id))
        if stored or voice.get("flow"):
            return Line(
                number=number,
                flow_file=None if stored else _file(options, voice.get("flow"), ctx),
                timezone=timezone,
                campaign_id=campaign_id,
                missed_call_callback=bool(voice.get("missed_call_callback")),
                flow_version_id=stored,
            )
    hotline = session.execute(_HOTLINE_LINE, {"number": number}).first()
    if hotline is None:
        return None
    hotline_id, options, key, version_id = hotline
    stored = _live(_attached(key, version_id))
    if not stored and not options.get("flow"):
        return None
    return Line(
        number=number,
        flow_file=None if stored else _file(options, options.get("flow"), ctx),
        timezone=str(options.get("timezone") or ctx.settings.default_timezone),
        hotline_id=hotline_id,
        flow_version_id=stored,
    )
