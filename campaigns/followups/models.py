"""Tables of follow-up series: enrolments, the outbox, consents and the suppression list."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from outreach.core.db import Base, ProviderSid, utcnow


class EnrollmentStatus(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    FAILED = "failed"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    CLAIMED = "claimed"
    QUEUED = "queued"  # accepted by Twilio
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    CANCELLED = "cancelled"


# Order in which a message moves; a callback never moves it to a lower rank.
STATUS_RANK = {
    OutboxStatus.PENDING: 0,
    OutboxStatus.CLAIMED: 1,
    OutboxStatus.QUEUED: 2,
    OutboxStatus.SENT: 3,
    OutboxStatus.DELIVERED: 4,
    OutboxStatus.UNDELIVERED: 4,
    OutboxStatus.FAILED: 4,
    OutboxStatus.CANCELLED: 4,
}
FINAL_STATUSES = frozenset(s for s, rank in STATUS_RANK.items() if rank == 4)
HANDED_OVER = frozenset(
    {OutboxStatus.QUEUED, OutboxStatus.SENT, OutboxStatus.DELIVERED, OutboxStatus.UNDELIVERED}
)


class ConsentKind(StrEnum):
    OPT_IN = "opt_in"
    OPT_OUT = "opt_out"
    OPT_BACK_IN = "opt_back_in"


class Enrollment(Base):
    """One person's subscription to one series; the number is sealed only while it runs."""

    __tablename__ = "followup_enrollments"
    __table_args__ = (
        Index("ix_followup_enrollments_contact", "contact_id", "status"),
        # One running enrolment per person and series: two YES texts at once enrol once.
        # Ended enrolments stay as history, so the person may opt in again later.
        Index(
            "uq_followup_enrollments_active",
            "campaign_id",
            "series_id",
            "contact_id",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    series_id: Mapped[str] = mapped_column(String(64))
    contact_id: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(8))
    sender: Mapped[str] = mapped_column(String(40))  # our number, not theirs
    timezone: Mapped[str] = mapped_column(String(64))
    # Fernet token of the person's number; NULL once the series has ended either way.
    number_enc: Mapped[str | None] = mapped_column(String(512))
    status: Mapped[EnrollmentStatus] = mapped_column(String(16), default=EnrollmentStatus.ACTIVE)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]


class OutboxMessage(Base):
    """One due message of a series; the text is rendered from the campaign at send time."""

    __tablename__ = "followup_outbox"
    __table_args__ = (
        Index("ix_followup_outbox_due", "status", "due_at"),
        Index("ix_followup_outbox_enrollment", "enrollment_id"),
        Index("ix_followup_outbox_claim", "claim_token"),
        # The report refresh looks up deliveries changed since its last run by updated_at.
        Index("ix_followup_outbox_updated", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(
        ForeignKey("followup_enrollments.id", ondelete="CASCADE")
    )
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    contact_id: Mapped[str] = mapped_column(String(64))
    step: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[datetime]
    status: Mapped[OutboxStatus] = mapped_column(String(16), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claim_token: Mapped[str | None] = mapped_column(String(32))
    lease_until: Mapped[datetime | None]
    message_sid: Mapped[str | None] = mapped_column(ProviderSid(), unique=True)
    error_code: Mapped[int | None] = mapped_column(Integer)
    sent_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Consent(Base):
    """An anonymous record of an opt-in or opt-out: who (hash), what, how, when."""

    __tablename__ = "followup_consents"
    __table_args__ = (Index("ix_followup_consents_campaign", "campaign_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[str] = mapped_column(String(64), index=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    series_id: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[ConsentKind] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Suppression(Base):
    """A contact who said STOP (or whom Twilio reports opted out); every send checks it."""

    __tablename__ = "followup_suppressions"

    contact_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
