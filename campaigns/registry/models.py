"""Tables of the campaign registry and the anonymous interaction log."""

from __future__ import annotations

import itertools
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Numeric, String, UniqueConstraint, event, false
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from campaigns.registry.enums import Attribution, Channel, Gateway, InteractionKind, Medium
from outreach.core.db import Base, ProviderSid, insert_for, utcnow


class Campaign(Base):
    """A campaign: one medium's spots or prints, with the entry points that attribute to it."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    medium: Mapped[Medium] = mapped_column(String(16))
    region: Mapped[str | None] = mapped_column(String(100))
    languages: Mapped[list[str]] = mapped_column(JSON)
    start_date: Mapped[date]
    end_date: Mapped[date]
    cost: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Baku")
    replies: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # Everything else the YAML says (voice flow, PSA codes, follow-up series, options),
    # kept as validated data so later features read it without a schema change each.
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Every change raises the version (the service sets it); an UPDATE names the version it
    # read, so of two saves based on the same version the second finds no row (StaleDataError).
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    # The version a campaigns file last set (None: never loaded from a file). A file loaded
    # again may change the campaign only while nobody else changed it since.
    loaded_version: Mapped[int | None]
    archived: Mapped[bool] = mapped_column(default=False, server_default=false())

    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}  # noqa: RUF012

    numbers: Mapped[list[CampaignNumber]] = relationship(
        back_populates="campaign", cascade="all, delete-orphan", order_by="CampaignNumber.id"
    )
    keywords: Mapped[list[Keyword]] = relationship(
        back_populates="campaign", cascade="all, delete-orphan", order_by="Keyword.id"
    )


class CampaignNumber(Base):
    """A tracking number that people dial or text for a campaign."""

    __tablename__ = "campaign_numbers"
    __table_args__ = (UniqueConstraint("campaign_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    number: Mapped[str] = mapped_column(String(32), index=True)

    campaign: Mapped[Campaign] = relationship(back_populates="numbers")


class Keyword(Base):
    """An SMS keyword of a campaign, in one language; `normalized` is what matching compares."""

    __tablename__ = "keywords"
    __table_args__ = (UniqueConstraint("campaign_id", "normalized"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    keyword: Mapped[str] = mapped_column(String(64))
    normalized: Mapped[str] = mapped_column(String(64), index=True)
    language: Mapped[str] = mapped_column(String(8))

    campaign: Mapped[Campaign] = relationship(back_populates="keywords")


class Hotline(Base):
    """A shared number with no campaign of its own (attribution by PSA code or airing lift)."""

    __tablename__ = "hotlines"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    replies: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Interaction(Base):
    """One inbound message or call, anonymous: the sender is only a keyed hash."""

    __tablename__ = "interactions"
    __table_args__ = (
        # One row per message or call and sender: a gateway that reuses an id for another
        # sender (or a forged retry) records a new message instead of swallowing it.
        UniqueConstraint("external_sid", "contact_id", name="uq_interactions_sid_contact"),
        Index("ix_interactions_campaign_time", "campaign_id", "created_at"),
        Index("ix_interactions_contact", "contact_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="SET NULL"), index=True
    )
    channel: Mapped[Channel] = mapped_column(String(16))
    # What carried it (Twilio, Kannel, an HTTP aggregator): reports split channels by it.
    gateway: Mapped[Gateway] = mapped_column(
        String(16), default=Gateway.TWILIO, server_default=Gateway.TWILIO.value
    )
    kind: Mapped[InteractionKind] = mapped_column(String(16))
    attribution: Mapped[Attribution] = mapped_column(String(16), default=Attribution.NONE)
    number: Mapped[str] = mapped_column(String(32))
    keyword: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(8))
    contact_id: Mapped[str] = mapped_column(String(64))
    country: Mapped[str | None] = mapped_column(String(2))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    external_sid: Mapped[str] = mapped_column(ProviderSid())
    # The reply we gave, so a retried webhook gets the same answer (our text, not theirs).
    reply: Mapped[str | None] = mapped_column(String(1600))


class RegistrySetting(Base):
    """A registry-wide value from the campaigns file (the organisation block)."""

    __tablename__ = "registry_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(JSON)


class RegistryVersion(Base):
    """One row whose token changes in every transaction that writes the registry.

    Processes cache the registry (campaigns/registry/cache.py) under the token they read; a
    new token, committed with the campaign write that made it, tells every process to reload.
    """

    __tablename__ = "registry_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32))


# Where a session keeps the registry snapshot of its transaction (campaigns/registry/cache.py).
REGISTRY_SNAPSHOT = "outreach_registry_snapshot"
# Where a session keeps the token a statement of its transaction read along with its own rows.
REGISTRY_TOKEN = "outreach_registry_token"  # noqa: S105 (a session.info key, not a secret)
_REGISTRY_TABLES = (Campaign, CampaignNumber, Keyword, Hotline, RegistrySetting)


@event.listens_for(Session, "before_flush")
def _new_registry_token(session: Session, _context: Any, _instances: Any) -> None:
    """A flush that writes the registry gives `registry_version` a new token, in its transaction."""
    touched = itertools.chain(session.new, session.dirty, session.deleted)
    if not any(isinstance(obj, _REGISTRY_TABLES) for obj in touched):
        return
    session.info.pop(REGISTRY_SNAPSHOT, None)
    session.info.pop(REGISTRY_TOKEN, None)
    token = uuid.uuid4().hex
    insert = insert_for(session, RegistryVersion).values(id=1, token=token)
    session.execute(insert.on_conflict_do_update(index_elements=["id"], set_={"token": token}))
