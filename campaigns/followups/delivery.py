"""Twilio's delivery status callbacks applied to outbox rows, never moving one backwards."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.followups.consent import fail_enrollment, opt_out
from campaigns.followups.models import (
    FINAL_STATUSES,
    STATUS_RANK,
    Enrollment,
    OutboxMessage,
    OutboxStatus,
)
from outreach.core.db import sid_key
from outreach.core.gateway import OPTED_OUT_CODE, PERMANENT_CODES
from outreach.core.logs import event

log = logging.getLogger(__name__)

TWILIO_STATUS = {
    "accepted": OutboxStatus.QUEUED,
    "scheduled": OutboxStatus.QUEUED,
    "queued": OutboxStatus.QUEUED,
    "sending": OutboxStatus.QUEUED,
    "sent": OutboxStatus.SENT,
    "delivered": OutboxStatus.DELIVERED,
    "read": OutboxStatus.DELIVERED,
    "undelivered": OutboxStatus.UNDELIVERED,
    "failed": OutboxStatus.FAILED,
    "canceled": OutboxStatus.CANCELLED,
}


def status_from_twilio(value: str) -> OutboxStatus | None:
    """Maps a Twilio MessageStatus to ours; None for statuses that say nothing new."""
    return TWILIO_STATUS.get((value or "").strip().lower())


def apply_status(
    session: Session,
    *,
    sid: str,
    status: str,
    error_code: int | None,
    now: datetime,
    outbox_id: int | None = None,
) -> bool:
    """Records a delivery status for a MessageSid; returns whether anything changed.

    `outbox_id` comes from our own (signed) callback URL: it finds the row when the callback
    beats the dispatcher's record of the sid.
    """
    new = status_from_twilio(status)
    # The row is locked: the dispatcher's record of the send (or another callback) may be
    # writing it now, and whichever goes second must see what the first one wrote.
    row = session.scalar(
        select(OutboxMessage).where(OutboxMessage.message_sid == sid).with_for_update()
    )
    if row is None and outbox_id is not None:
        row = session.get(OutboxMessage, outbox_id, with_for_update=True)
        if row is not None and row.message_sid not in (None, sid_key(sid)):
            row = None  # that row was sent as another message
    if row is None or new is None:
        return False  # not one of ours, or a status we do not track
    if row.message_sid is None:
        row.message_sid = sid
    current = OutboxStatus(row.status)
    if current in FINAL_STATUSES or STATUS_RANK[new] <= STATUS_RANK[current]:
        return False  # out of order or repeated: never move back
    row.status = new
    if error_code is not None:
        row.error_code = error_code
    row.updated_at = now
    event(
        log,
        "follow-up status",
        contact=row.contact_id,
        outbox_id=row.id,
        status=str(new),
        error_code=error_code,
    )
    if new in (OutboxStatus.FAILED, OutboxStatus.UNDELIVERED) and error_code in PERMANENT_CODES:
        enrollment = session.get(Enrollment, row.enrollment_id)
        if error_code == OPTED_OUT_CODE:
            opt_out(
                session,
                contact_id=row.contact_id,
                channel="sms",
                source="twilio_21610",
                now=now,
                campaign_id=row.campaign_id,
            )
        elif enrollment is not None:
            fail_enrollment(session, enrollment, now)
    session.flush()
    return True
