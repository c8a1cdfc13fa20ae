"""Follow-up numbers per campaign: opt-ins, messages by status, opt-outs."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.followups.models import (
    HANDED_OVER,
    Consent,
    ConsentKind,
    OutboxMessage,
    OutboxStatus,
)
from campaigns.registry.models import Campaign


@dataclass
class FollowupStats:
    campaign_id: int
    campaign_code: str
    opt_ins: int = 0  # consents given (YES, voice key)
    opted_in_contacts: int = 0  # distinct people behind them
    opt_outs: int = 0
    scheduled: int = 0  # messages put in the outbox
    pending: int = 0
    sent: int = 0  # accepted by Twilio (queued, sent, delivered or undelivered later)
    delivered: int = 0
    undelivered: int = 0
    failed: int = 0
    cancelled: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def followup_stats(
    session: Session,
    *,
    campaign_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[FollowupStats]:
    """Returns per-campaign follow-up counts (opt-ins by consent time, messages by due time)."""
    stats: dict[int, FollowupStats] = {}

    def entry(cid: int) -> FollowupStats:
        if cid not in stats:
            code = session.scalar(select(Campaign.code).where(Campaign.id == cid)) or str(cid)
            stats[cid] = FollowupStats(campaign_id=cid, campaign_code=code)
        return stats[cid]

    consent = select(
        Consent.campaign_id,
        Consent.kind,
        func.count(),
        func.count(func.distinct(Consent.contact_id)),
    ).where(Consent.campaign_id.is_not(None))
    if campaign_id is not None:
        consent = consent.where(Consent.campaign_id == campaign_id)
    if since is not None:
        consent = consent.where(Consent.created_at >= since)
    if until is not None:
        consent = consent.where(Consent.created_at < until)
    for cid, kind, count, people in session.execute(
        consent.group_by(Consent.campaign_id, Consent.kind)
    ):
        row = entry(cast(int, cid))
        if kind == ConsentKind.OPT_IN:
            row.opt_ins, row.opted_in_contacts = count, people
        elif kind == ConsentKind.OPT_OUT:
            row.opt_outs = count

    outbox = select(OutboxMessage.campaign_id, OutboxMessage.status, func.count())
    if campaign_id is not None:
        outbox = outbox.where(OutboxMessage.campaign_id == campaign_id)
    if since is not None:
        outbox = outbox.where(OutboxMessage.due_at >= since)
    if until is not None:
        outbox = outbox.where(OutboxMessage.due_at < until)
    for cid, status, count in session.execute(
        outbox.group_by(OutboxMessage.campaign_id, OutboxMessage.status)
    ):
        row = entry(cid)
        row.scheduled += count
        state = OutboxStatus(status)
        if state in (OutboxStatus.PENDING, OutboxStatus.CLAIMED):
            row.pending += count
        if state in HANDED_OVER:
            row.sent += count
        if state == OutboxStatus.DELIVERED:
            row.delivered += count
        elif state == OutboxStatus.UNDELIVERED:
            row.undelivered += count
        elif state == OutboxStatus.FAILED:
            row.failed += count
        elif state == OutboxStatus.CANCELLED:
            row.cancelled += count
    return [stats[k] for k in sorted(stats)]
