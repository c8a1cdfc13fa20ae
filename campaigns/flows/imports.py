"""Flow files on disk become stored flows: import a file, and attach campaigns to stored flows.

Importing saves the file as the flow's next version (unless the newest version has the same
source), publishes it when the flow has no live version yet, and attaches every campaign and
hotline whose `flow` reference names that file (`flow_attachments`), so their calls run on the
stored flow's live version.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from campaigns.flows.models import FlowAttachment, FlowVersion, StoredFlow
from campaigns.flows.service import (
    checked,
    ensure_flow,
    get_flow,
    latest,
    lock_flow,
    publish,
    save_version,
)
from campaigns.registry.flows import flow_file
from campaigns.registry.models import Campaign, Hotline
from ivr_flows.loader import FlowPathError, read_flow_text
from outreach.core.settings import Settings


@dataclass(frozen=True)
class Imported:
    key: str
    version: int
    created: bool  # a new version was saved
    attached: tuple[str, ...]  # campaign codes and hotline numbers now on the stored flow


def import_file(session: Session, path: Path, *, user: str, settings: Settings) -> Imported:
    """Imports one flow file (raises FlowRefused / FlowPathError when it is not a valid flow)."""
    text = read_flow_text(path)
    flow = checked(text)
    # Locked: twenty imports of one file at once save it once.
    previous = latest(session, lock_flow(session, ensure_flow(session, flow.id, flow.title)))
    created = previous is None or previous.source != text
    row: FlowVersion = (
        save_version(session, source=text, user=user, note=f"imported from {path.name}")
        if created or previous is None
        else previous
    )
    stored = get_flow(session, flow.id)
    if stored.live_version_id is None:
        publish(session, key=flow.id, number=row.number)
    attached = _attach_referrers(session, path.resolve(), flow.id, settings)
    return Imported(flow.id, row.number, created, attached)


def _names_file(options: dict[str, object], reference: object, target: Path, s: Settings) -> bool:
    if not reference:
        return False
    try:
        return flow_file(dict(options), str(reference), s) == target
    except FlowPathError:
        return False


def _attach_referrers(session: Session, target: Path, key: str, s: Settings) -> tuple[str, ...]:
    out: list[str] = []
    for campaign in session.scalars(select(Campaign).order_by(Campaign.code)):
        voice = campaign.options.get("voice")
        if isinstance(voice, dict) and _names_file(campaign.options, voice.get("flow"), target, s):
            attach(session, key, campaign=campaign)
            out.append(campaign.code)
    for hotline in session.scalars(select(Hotline).order_by(Hotline.number)):
        if _names_file(hotline.options, hotline.options.get("flow"), target, s):
            attach(session, key, hotline=hotline)
            out.append(hotline.number)
    return tuple(out)


def attach(
    session: Session,
    key: str | None,
    *,
    campaign: Campaign | None = None,
    hotline: Hotline | None = None,
) -> None:
    """Attaches a campaign's (or hotline's) calls to a stored flow; None detaches them."""
    column = FlowAttachment.campaign_id if campaign is not None else FlowAttachment.hotline_id
    owner = campaign.id if campaign is not None else hotline.id if hotline is not None else None
    if owner is None:
        raise ValueError("attach needs a campaign or a hotline")
    if key is None:
        session.execute(delete(FlowAttachment).where(column == owner))
        return
    flow_id = get_flow(session, key).id
    for _ in range(2):
        row = session.scalar(select(FlowAttachment).where(column == owner))
        if row is not None:
            row.flow_id = flow_id
            return
        try:
            with session.begin_nested():
                session.add(
                    FlowAttachment(
                        flow_id=flow_id,
                        campaign_id=campaign.id if campaign is not None else None,
                        hotline_id=hotline.id if hotline is not None else None,
                    )
                )
            return
        except IntegrityError:
            continue  # attached at the same moment by another request: update that row


def attached_campaigns(session: Session, key: str) -> list[str]:
    query = (
        select(Campaign.code)
        .join(FlowAttachment, FlowAttachment.campaign_id == Campaign.id)
        .join(StoredFlow, StoredFlow.id == FlowAttachment.flow_id)
        .where(StoredFlow.key == key)
        .order_by(Campaign.code)
    )
    return list(session.scalars(query))
