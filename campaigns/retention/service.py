"""Retention: raw per-contact rows are kept `retention_days`, the report rollups for good.

A purge first refreshes the rollups, then deletes only raw rows they already cover (ids at
or below each source's high-water mark, times before the cutoff), and records the cutoff so
no later refresh recomputes those hours from the now missing rows. Reports over old ranges
keep their numbers. Never deleted: the suppression list, pending or claimed outbox
messages, active enrolments, pending callbacks, and the consents of contacts who still
have an active enrolment or a message due (the proof of their opt-in).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, delete, func, not_, select
from sqlalchemy.orm import Session

from campaigns.followups.models import (
    Consent,
    Enrollment,
    EnrollmentStatus,
    OutboxMessage,
    OutboxStatus,
)
from campaigns.registry.models import Interaction
from campaigns.reports import rollups
from campaigns.reports.models import RollupState
from campaigns.reports.sources.base import hour_of
from campaigns.sms.models import OPEN_REPLIES, SmsReply
from campaigns.voice.models import OPEN_CALLBACKS, Call, CallCallback, CallEvent
from outreach.core.logs import event

log = logging.getLogger(__name__)

OPEN_OUTBOX = (OutboxStatus.PENDING, OutboxStatus.CLAIMED)


@dataclass
class PurgeResult:
    """What a purge deleted (or, dry, would delete), per table, and before when."""

    cutoff: datetime | None
    dry_run: bool = False
    deleted: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.deleted.values())


def cutoff_for(*, now: datetime, retention_days: int, zone: ZoneInfo) -> datetime:
    """Returns the start of the local day `retention_days` before now (whole days are kept)."""
    day = (now - timedelta(days=retention_days)).astimezone(zone).date()
    return datetime.combine(day, time.min, zone)


def purge(
    session: Session,
    *,
    now: datetime,
    retention_days: int,
    zone: ZoneInfo | None = None,
    lag_hours: int = 2,
    dry_run: bool = False,
) -> PurgeResult:
    """Deletes raw rows older than the retention period once the rollups cover them."""
    if retention_days <= 0:
        return PurgeResult(cutoff=None, dry_run=dry_run)  # 0 keeps raw rows forever
    zone = zone or ZoneInfo("UTC")
    rollups.refresh(session, zone=zone, now=now, lag_hours=lag_hours)
    # Hours the refresh still revisits (calls in progress, late rows) are never purged.
    cutoff = min(
        cutoff_for(now=now, retention_days=retention_days, zone=zone),
        hour_of(now) - timedelta(hours=lag_hours),
    )
    water = {s.source: s.high_water for s in session.scalars(select(RollupState))}
    result = PurgeResult(cutoff=cutoff, dry_run=dry_run)
    for table, model, where in _targets(cutoff, water):
        if dry_run:
            n = session.scalar(select(func.count()).select_from(model).where(where))
        else:
            n = session.execute(delete(model).where(where)).rowcount  # type: ignore[attr-defined]
        result.deleted[table] = int(n or 0)
    if not dry_run:
        rollups.mark_purged(session, cutoff)
        session.flush()
    event(log, "retention purge", cutoff=cutoff.isoformat(), dry_run=dry_run, **result.deleted)
    return result


def _targets(cutoff: datetime, water: dict[str, int]) -> list[tuple[str, Any, ColumnElement[bool]]]:
    """Returns (table, model, filter) in delete order: children before their parents."""
    old_calls = select(Call.id).where(Call.started_at < cutoff, Call.id <= water.get("calls", 0))
    old_outbox = and_(
        OutboxMessage.status.not_in(OPEN_OUTBOX),
        OutboxMessage.due_at < cutoff,
        OutboxMessage.updated_at < cutoff,
        func.coalesce(OutboxMessage.sent_at, OutboxMessage.due_at) < cutoff,
        OutboxMessage.id <= water.get("deliveries", 0),
    )
    still_held = select(OutboxMessage.enrollment_id).where(not_(old_outbox))
    ended = and_(
        Enrollment.status != EnrollmentStatus.ACTIVE,
        func.coalesce(Enrollment.ended_at, Enrollment.created_at) < cutoff,
        Enrollment.id.not_in(still_held),  # only ended series whose messages all go
    )
    open_replies = select(SmsReply.interaction_id).where(SmsReply.status.in_(OPEN_REPLIES))
    old_interactions = select(Interaction.id).where(
        Interaction.created_at < cutoff,
        Interaction.id <= water.get("interactions", 0),
        Interaction.id.not_in(open_replies),
    )
    # Contacts with something still going on keep their consent records.
    active = select(Enrollment.contact_id).where(Enrollment.status == EnrollmentStatus.ACTIVE)
    due = select(OutboxMessage.contact_id).where(OutboxMessage.status.in_(OPEN_OUTBOX))
    consents = and_(
        Consent.created_at < cutoff,
        Consent.id <= water.get("consents", 0),
        Consent.contact_id.not_in(active),
        Consent.contact_id.not_in(due),
    )
    return [
        ("call_events", CallEvent, CallEvent.call_id.in_(old_calls)),
        ("calls", Call, Call.id.in_(old_calls)),
        (
            "call_callbacks",
            CallCallback,
            and_(CallCallback.created_at < cutoff, CallCallback.status.not_in(OPEN_CALLBACKS)),
        ),
        # Replies go with (before) the messages they answered; an open one keeps both.
        (
            "sms_replies",
            SmsReply,
            and_(
                SmsReply.interaction_id.in_(old_interactions), SmsReply.status.not_in(OPEN_REPLIES)
            ),
        ),
        ("interactions", Interaction, Interaction.id.in_(old_interactions)),
        ("followup_outbox", OutboxMessage, old_outbox),
        ("followup_enrollments", Enrollment, ended),
        ("followup_consents", Consent, consents),
    ]
