"""The reply outbox of gateways that answer through a send API (the generic HTTP channel).

Twilio and Kannel take the reply in the webhook's own response. An aggregator's reply goes out
through its send API, which can be down when the message comes in: the reply is queued in the
transaction that records the message, sent at once, and retried by a background job until it
is sent, has failed for good, or is cancelled by a STOP. The number and the text are kept
sealed only until then.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from outreach.core.db import Base, ProviderSid, utcnow


class ReplyStatus(StrEnum):
    PENDING = "pending"  # waiting for its first or next attempt (due_at)
    # Claimed by one process until claimed_until, committed before the send API is called (no
    # transaction is held across the network); a claim that outlived its lease is sent again.
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"  # refused for good, or given up after OUTREACH_SEND_MAX_ATTEMPTS
    CANCELLED = "cancelled"  # its person texted STOP before it could be sent


OPEN_REPLIES = (ReplyStatus.PENDING, ReplyStatus.SENDING)


class SmsReply(Base):
    """One reply to an inbound message; the number and text are sealed only while open."""

    __tablename__ = "sms_replies"
    __table_args__ = (Index("ix_sms_replies_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # One reply per inbound message: a retried message never queues a second one.
    interaction_id: Mapped[int] = mapped_column(
        ForeignKey("interactions.id", ondelete="CASCADE"), unique=True
    )
    gateway: Mapped[str] = mapped_column(String(16))
    contact_id: Mapped[str] = mapped_column(String(64))
    from_number: Mapped[str] = mapped_column(String(32))  # our campaign number
    sealed_number: Mapped[str | None] = mapped_column(Text)
    sealed_text: Mapped[str | None] = mapped_column(Text)
    status: Mapped[ReplyStatus] = mapped_column(String(16), default=ReplyStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    due_at: Mapped[datetime]
    claimed_until: Mapped[datetime | None]
    message_sid: Mapped[str | None] = mapped_column(ProviderSid())
    error: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
