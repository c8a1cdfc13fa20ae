"""Tables of stored voice flows: the flow, its immutable versions, and its recorded audio.

A version is a snapshot of the YAML source *and* of the recordings chosen for each prompt, so
publishing one changes what every new call hears at once, while a call in progress keeps the
version it started on (`calls.flow_version_id`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from outreach.core.db import Base, utcnow


class StoredFlow(Base):
    """A voice flow by its key (the YAML `id`); `live_version_id` is what calls get."""

    __tablename__ = "flows"
    __table_args__ = (UniqueConstraint("key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200), default="")
    # No FK here: versions point at their flow, and a cycle of FKs would need deferred ones.
    live_version_id: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class FlowVersion(Base):
    """One saved version: the source as typed and the recordings (prompt slot -> audio token)."""

    __tablename__ = "flow_versions"
    __table_args__ = (UniqueConstraint("flow_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    flow_id: Mapped[int] = mapped_column(ForeignKey("flows.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    source: Mapped[str] = mapped_column(Text)
    # "node/slot/language" -> FlowAudio.token (see ivr_flows.prompts.slot_key).
    audio: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    note: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FlowAudio(Base):
    """A normalised recording (8 kHz mono WAV) in the media folder, named by a random token."""

    __tablename__ = "flow_audio"
    __table_args__ = (UniqueConstraint("token"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    flow_id: Mapped[int] = mapped_column(ForeignKey("flows.id", ondelete="CASCADE"), index=True)
    token: Mapped[str] = mapped_column(String(64))
    slot: Mapped[str] = mapped_column(String(200))  # node/slot/language
    bytes: Mapped[int]
    duration_ms: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FlowAttachment(Base):
    """Which stored flow a campaign's or a hotline's calls run on (its live version).

    Kept apart from the campaign's options, so reloading the campaigns file keeps it; without
    one, a campaign's calls read its `voice.flow` file from disk.
    """

    __tablename__ = "flow_attachments"
    __table_args__ = (UniqueConstraint("campaign_id"), UniqueConstraint("hotline_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    flow_id: Mapped[int] = mapped_column(ForeignKey("flows.id", ondelete="CASCADE"), index=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    hotline_id: Mapped[int | None] = mapped_column(ForeignKey("hotlines.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RecordingCode(Base):
    """A one-time code a manager asked for, to record one prompt slot by phone.

    Only its HMAC is kept (`code_hash`, under the hash key); it is bound to the flow, the slot
    and the manager, expires after a few minutes and is spent by the first call that enters it
    (`call_hash`: the HMAC of that call's CallSid, so Twilio's retries of that call still work).
    """

    __tablename__ = "flow_recording_codes"
    __table_args__ = (UniqueConstraint("code_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    flow_id: Mapped[int] = mapped_column(ForeignKey("flows.id", ondelete="CASCADE"), index=True)
    slot: Mapped[str] = mapped_column(String(200))  # node/slot/language
    code_hash: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    call_hash: Mapped[str | None] = mapped_column(String(64))
    caller_hash: Mapped[str] = mapped_column(String(64), default="")  # HMAC of the caller
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PendingRecording(Base):
    """A prompt recorded by phone, normalised and in the media folder, waiting for a manager.

    One per Twilio recording (`recording_sid` unique: copies of a callback add nothing). The
    caller is kept only as an HMAC (`caller_hash`), never as a number.
    """

    __tablename__ = "flow_pending_recordings"
    __table_args__ = (UniqueConstraint("recording_sid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    flow_id: Mapped[int] = mapped_column(ForeignKey("flows.id", ondelete="CASCADE"), index=True)
    code_id: Mapped[int | None] = mapped_column(
        ForeignKey("flow_recording_codes.id", ondelete="SET NULL")
    )
    slot: Mapped[str] = mapped_column(String(200))
    recording_sid: Mapped[str] = mapped_column(String(64))
    token: Mapped[str] = mapped_column(String(64))
    bytes: Mapped[int]
    duration_ms: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    caller_hash: Mapped[str] = mapped_column(String(64), default="")
    requested_by: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # approved, rejected
    decided_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StudioFailures(Base):
    """Wrong codes entered from one caller (its HMAC) in the current hour, across calls."""

    __tablename__ = "flow_studio_failures"
    __table_args__ = (UniqueConstraint("caller_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    caller_hash: Mapped[str] = mapped_column(String(64))
    failures: Mapped[int] = mapped_column(default=0)
    window_start: Mapped[datetime]
