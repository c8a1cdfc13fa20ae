"""Tables of voice calls: one row per call, its event trail, and pending missed-call callbacks."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from outreach.core.db import Base, ProviderSid, utcnow


class CallDirection(StrEnum):
    INBOUND = "inbound"
    CALLBACK = "callback"  # our outbound call answering a missed call


class CallEventKind(StrEnum):
    """Kinds of call_events rows (funnels count entered/no_input/invalid/went_on/hung_up)."""

    ENTERED = "entered"
    NO_INPUT = "no_input"
    INVALID = "invalid"
    WENT_ON = "went_on"
    HUNG_UP = "hung_up"
    RESULT = "result"
    LANGUAGE = "language"
    PSA_CODE = "psa_code"
    OPT_IN = "opt_in"
    TRANSFERRED = "transferred"
    AFTER_HOURS = "after_hours"
    ENDED = "ended"


class CallbackStatus(StrEnum):
    PENDING = "pending"
    # Claimed by one worker until claimed_until, committed before the gateway is called (no
    # transaction is held across the network call); a claim that outlived its lease (the
    # worker died mid-call) is placed again.
    PLACING = "placing"
    PLACED = "placed"
    FAILED = "failed"  # never placed (gateway refused it, or gave up)
    LIMITED = "limited"  # over the per-caller daily limit: nothing placed, no number kept
    # Set from the placed call's status callback (Twilio's CallStatus on its CallSid):
    ANSWERED = "answered"  # in-progress or completed
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    CALL_FAILED = "call_failed"  # placed, but the network could not connect it
    CANCELED = "canceled"


# Callbacks still to place: the caller's number is kept sealed while one is open.
OPEN_CALLBACKS = frozenset({CallbackStatus.PENDING, CallbackStatus.PLACING})
# Placed callbacks that never reached the caller (reports count these as unanswered).
UNANSWERED_CALLBACKS = frozenset(
    {
        CallbackStatus.NO_ANSWER,
        CallbackStatus.BUSY,
        CallbackStatus.CALL_FAILED,
        CallbackStatus.CANCELED,
    }
)


class Call(Base):
    """One voice call, anonymous: the caller is only a keyed hash; keyed by Twilio's CallSid."""

    __tablename__ = "calls"
    __table_args__ = (
        UniqueConstraint("call_sid"),
        Index("ix_calls_campaign_time", "campaign_id", "started_at"),
        Index("ix_calls_contact", "contact_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_sid: Mapped[str] = mapped_column(ProviderSid())
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    hotline_id: Mapped[int | None] = mapped_column(ForeignKey("hotlines.id", ondelete="SET NULL"))
    flow_id: Mapped[str] = mapped_column(String(64))
    flow_file: Mapped[str] = mapped_column(String(500))
    # The stored version the call runs on from start to end (None: a flow file read from disk).
    flow_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("flow_versions.id", ondelete="SET NULL")
    )
    # A call from the flow editor's simulator: never counted in reports, no interaction row.
    simulated: Mapped[bool] = mapped_column(default=False, server_default=false())
    direction: Mapped[CallDirection] = mapped_column(String(16), default=CallDirection.INBOUND)
    number: Mapped[str] = mapped_column(String(32))  # our number (dialed), never the caller's
    contact_id: Mapped[str] = mapped_column(String(64))
    country: Mapped[str | None] = mapped_column(String(2))
    attribution: Mapped[str] = mapped_column(String(16))
    psa_code: Mapped[str | None] = mapped_column(String(16))
    language: Mapped[str | None] = mapped_column(String(8))
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    results: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # `seq` is the step number the next Gather/Dial/Redirect posts back with; the TwiML
    # answered for step `seq - 1` is cached so a retried request gets the same answer.
    seq: Mapped[int] = mapped_column(default=1)
    # Rows in the call's event trail: the next event's position (no count query per step).
    events: Mapped[int] = mapped_column(default=0, server_default="0")
    last_twiml: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str | None] = mapped_column(String(16))
    ended_node: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str | None] = mapped_column(String(16))
    duration_seconds: Mapped[int | None]
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CallEvent(Base):
    """A step of a call: a node entered, no input, invalid input, went on, hung up, a result."""

    __tablename__ = "call_events"
    __table_args__ = (Index("ix_call_events_node_kind", "node", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]  # order within the call
    node: Mapped[str] = mapped_column(String(64))
    kind: Mapped[CallEventKind] = mapped_column(String(16))
    question_id: Mapped[str | None] = mapped_column(String(64))
    value: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class CallCallback(Base):
    """A missed call to answer; the caller's number is kept sealed only while pending."""

    __tablename__ = "call_callbacks"
    __table_args__ = (
        UniqueConstraint("missed_call_sid"),
        Index("ix_call_callbacks_contact_time", "contact_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    missed_call_sid: Mapped[str] = mapped_column(ProviderSid())
    contact_id: Mapped[str] = mapped_column(String(64))
    from_number: Mapped[str] = mapped_column(String(32))  # our campaign number
    sealed_number: Mapped[str | None] = mapped_column(Text)
    status: Mapped[CallbackStatus] = mapped_column(String(16), default=CallbackStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    call_sid: Mapped[str | None] = mapped_column(ProviderSid())
    error: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    placed_at: Mapped[datetime | None]
    claimed_until: Mapped[datetime | None]
