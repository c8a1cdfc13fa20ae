"""Consent records, the suppression list and the end of an enrolment (number erased)."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from campaigns.followups.models import (
    Consent,
    ConsentKind,
    Enrollment,
    EnrollmentStatus,
    OutboxMessage,
    OutboxStatus,
    Suppression,
)
from outreach.core.db import insert_for
from outreach.core.logs import event

log = logging.getLogger(__name__)

OPEN = (OutboxStatus.PENDING, OutboxStatus.CLAIMED)


def is_suppressed(session: Session, contact_id: str) -> bool:
    """Says whether the contact asked to stop (checked before every send)."""
    return session.get(Suppression, contact_id) is not None


def record_consent(
    session: Session,
    *,
    contact_id: str,
    kind: ConsentKind,
    channel: str,
    source: str,
    now: datetime,
    campaign_id: int | None = None,
    series_id: str | None = None,
) -> None:
    """Writes an anonymous consent record (contact hash, campaign, channel, time, source)."""
    session.add(
        Consent(
            contact_id=contact_id,
            campaign_id=campaign_id,
            series_id=series_id,
            kind=kind,
            channel=channel,
            source=source,
            created_at=now,
        )
    )


def opt_out(
    session: Session,
    *,
    contact_id: str,
    channel: str,
    source: str,
    now: datetime,
    campaign_id: int | None = None,
) -> int:
    """Suppresses the contact, cancels every open message and erases numbers; returns count."""
    # Many STOPs at once (or a STOP racing Twilio's 21610) all land: the first suppresses.
    session.execute(
        insert_for(session, Suppression)
        .values(contact_id=contact_id, source=source, created_at=now)
        .on_conflict_do_nothing(index_elements=["contact_id"])
    )
    active = session.scalars(
        select(Enrollment).where(
            Enrollment.contact_id == contact_id, Enrollment.status == EnrollmentStatus.ACTIVE
        )
    ).all()
    # Claimed rows are cancelled too: the dispatcher re-checks the row before it sends.
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.contact_id == contact_id, OutboxMessage.status.in_(OPEN))
        .values(status=OutboxStatus.CANCELLED, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    cancelled = int(getattr(result, "rowcount", 0) or 0)
    campaigns: set[int | None] = {e.campaign_id for e in active} or {campaign_id}
    for enrollment in active:
        end_enrollment(enrollment, EnrollmentStatus.CANCELLED, now)
    for camp in sorted(campaigns, key=lambda c: c or 0):
        record_consent(
            session,
            contact_id=contact_id,
            kind=ConsentKind.OPT_OUT,
            channel=channel,
            source=source,
            now=now,
            campaign_id=camp,
        )
    session.flush()
    event(log, "follow-ups opted out", contact=contact_id, source=source, cancelled=cancelled)
    return cancelled


def opt_back_in(
    session: Session,
    *,
    contact_id: str,
    channel: str,
    source: str,
    now: datetime,
    campaign_id: int | None = None,
) -> bool:
    """Lifts the contact's suppression; returns whether there was one."""
    lifted = session.execute(delete(Suppression).where(Suppression.contact_id == contact_id))
    if not getattr(lifted, "rowcount", 0):
        return False
    record_consent(
        session,
        contact_id=contact_id,
        kind=ConsentKind.OPT_BACK_IN,
        channel=channel,
        source=source,
        now=now,
        campaign_id=campaign_id,
    )
    session.flush()
    event(log, "follow-ups opted back in", contact=contact_id, source=source)
    return True


def end_enrollment(enrollment: Enrollment, status: EnrollmentStatus, now: datetime) -> None:
    """Ends an enrolment and erases the sealed number: nothing is pending any more."""
    if enrollment.status == EnrollmentStatus.ACTIVE:
        enrollment.status = status
        enrollment.ended_at = now
    enrollment.number_enc = None


def finish_if_done(session: Session, enrollment: Enrollment, now: datetime) -> bool:
    """Completes the enrolment when none of its messages is pending or claimed."""
    if enrollment.status != EnrollmentStatus.ACTIVE:
        enrollment.number_enc = None
        return True
    open_rows = session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.enrollment_id == enrollment.id, OutboxMessage.status.in_(OPEN))
    )
    if open_rows:
        return False
    end_enrollment(enrollment, EnrollmentStatus.COMPLETED, now)
    return True


def fail_enrollment(session: Session, enrollment: Enrollment, now: datetime) -> None:
    """Ends an enrolment that cannot go on (bad number): cancels its open messages."""
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.enrollment_id == enrollment.id, OutboxMessage.status.in_(OPEN))
        .values(status=OutboxStatus.CANCELLED, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    end_enrollment(enrollment, EnrollmentStatus.FAILED, now)
