"""Rollup tables: hourly counts, daily contact sets and the refresh high-water marks."""

from __future__ import annotations

from datetime import date, datetime
from typing import cast

from sqlalchemy import BigInteger, LargeBinary, String, Table
from sqlalchemy.orm import Mapped, mapped_column

from outreach.core.db import Base


class ReportContact(Base):
    """A small integer for each contact id (the bit position in contact sets) and first contact."""

    __tablename__ = "report_contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[str] = mapped_column(String(64), unique=True)
    first_seen: Mapped[datetime]


class RollupCount(Base):
    """One additive count for an hour (UTC) and a (campaign, channel, language) cell."""

    __tablename__ = "rollup_counts"

    hour: Mapped[datetime] = mapped_column(primary_key=True)
    # 0 stands for "no campaign" so the key has no NULLs (NULLs never collide in a PK/unique).
    campaign_id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    language: Mapped[str] = mapped_column(String(8), primary_key=True)
    metric: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class RollupDaily(Base):
    """The hourly counts summed per local day: what reports read (their ranges are days)."""

    __tablename__ = "rollup_daily"

    day: Mapped[date] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    language: Mapped[str] = mapped_column(String(8), primary_key=True)
    metric: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class RollupSet(Base):
    """The exact set of contacts (a compressed bitmap of ReportContact ids) seen in a cell on a day.

    kind "seen": contacts with an interaction that local day in that cell;
    kind "first": contacts whose first interaction ever was that day (cell fields are "*"/-1).
    """

    __tablename__ = "rollup_sets"

    day: Mapped[date] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    campaign_id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    language: Mapped[str] = mapped_column(String(8), primary_key=True)
    members: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int]


class RollupPeople(Base):
    """The exact set of contacts behind one count (a metric and key) of a cell on a local day.

    What lets a report tell how many distinct people a count of calls, funnel steps, topics,
    opt-ins or deliveries comes from (interactions use the `seen` sets of rollup_sets).
    """

    __tablename__ = "rollup_people"

    day: Mapped[date] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    language: Mapped[str] = mapped_column(String(8), primary_key=True)
    metric: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    members: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int]


class RollupState(Base):
    """How far each raw source has been folded into the rollups."""

    __tablename__ = "rollup_state"

    source: Mapped[str] = mapped_column(String(32), primary_key=True)
    high_water: Mapped[int] = mapped_column(BigInteger, default=0)
    refreshed_at: Mapped[datetime | None]


def table_of(model: type[Base]) -> Table:
    """The Core table of a model (Core inserts skip the ORM's per-row bookkeeping)."""
    return cast(Table, model.__table__)
