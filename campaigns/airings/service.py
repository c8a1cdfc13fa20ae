"""Airings of radio and TV spots: the table, the service and the CSV import."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from campaigns.audit.service import Actor, TargetKind, record
from campaigns.registry.enums import Medium
from campaigns.registry.models import Campaign
from campaigns.registry.schemas import EARLIEST_DAY, LATEST_DAY
from outreach.core.db import Base, utcnow

CSV_FIELDS = ("campaign", "station", "aired_at", "duration_seconds")
# Only broadcast spots air; a flyer or a poster has no airing time to measure a lift from.
AIRING_MEDIA = frozenset({Medium.RADIO, Medium.TV})
# airings.id is a 32-bit integer on PostgreSQL: a larger id names no airing (and no query).
MAX_ID = 2**31 - 1


class AiringError(ValueError):
    """An airing that cannot be recorded; the message says why."""


class Airing(Base):
    """One broadcast of a campaign's spot on a station."""

    __tablename__ = "airings"
    __table_args__ = (
        UniqueConstraint("station", "aired_at"),
        Index("ix_airings_aired_at", "aired_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    station: Mapped[str] = mapped_column(String(100))
    aired_at: Mapped[datetime]
    duration_seconds: Mapped[int] = mapped_column(default=30)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    campaign: Mapped[Campaign] = relationship()


def parse_time(raw: str, *, timezone: str) -> datetime:
    """Parses an ISO time; a time without offset is local to the campaign's zone."""
    try:
        value = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise AiringError(
            f"aired_at {raw.strip()!r} is not a date and time like 2027-02-01 08:00"
        ) from exc
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(timezone))
    return value


def create(
    session: Session,
    *,
    campaign_code: str,
    station: str,
    aired_at: datetime,
    duration_seconds: int,
    actor: Actor | None = None,
) -> Airing:
    """Records an airing of a campaign's spot (in the audit log, given who), or raises
    AiringError."""
    campaign = session.scalar(select(Campaign).where(Campaign.code == campaign_code))
    if campaign is None:
        raise AiringError(f"unknown campaign {campaign_code!r}")
    if campaign.medium not in AIRING_MEDIA:
        raise AiringError(
            f"campaign {campaign_code!r} is a {campaign.medium} campaign: only radio and TV "
            "spots air"
        )
    station = station.strip()
    if not station:
        raise AiringError("station is empty")
    if aired_at.tzinfo is None:
        raise AiringError("aired_at needs a time zone")
    if not EARLIEST_DAY <= aired_at.date() <= LATEST_DAY:
        raise AiringError(f"aired_at must be between {EARLIEST_DAY} and {LATEST_DAY}")
    if not 0 < duration_seconds <= 3600:
        raise AiringError("duration_seconds must be between 1 and 3600")
    taken = session.scalar(
        select(Airing).where(Airing.station == station, Airing.aired_at == aired_at)
    )
    if taken is not None:
        raise AiringError(f"{station} already has an airing at {aired_at.isoformat()}")
    airing = Airing(
        campaign=campaign, station=station, aired_at=aired_at, duration_seconds=duration_seconds
    )
    session.add(airing)
    session.flush()
    if actor is not None:
        record(
            session, actor=actor, action="create", kind=TargetKind.AIRING, target=campaign_code,
            after=_audited(airing),
        )  # fmt: skip
    return airing


def list_between(
    session: Session, *, start: datetime, end: datetime, campaign_ids: list[int] | None = None
) -> list[Airing]:
    """Lists airings in [start, end), oldest first."""
    query = select(Airing).where(Airing.aired_at >= start, Airing.aired_at < end)
    if campaign_ids is not None:
        query = query.where(Airing.campaign_id.in_(campaign_ids))
    return list(session.scalars(query.order_by(Airing.aired_at, Airing.id)))


def _audited(airing: Airing) -> dict[str, object]:
    return {
        "station": airing.station,
        "aired_at": airing.aired_at.astimezone(UTC).isoformat(),
        "duration_seconds": airing.duration_seconds,
    }


def delete(session: Session, *, airing_id: int, actor: Actor | None = None) -> bool:
    """Deletes an airing (in the audit log, given who); returns False if there was none."""
    if not 1 <= airing_id <= MAX_ID:
        return False
    airing = session.get(Airing, airing_id)
    if airing is None:
        return False
    if actor is not None:
        record(
            session, actor=actor, action="delete", kind=TargetKind.AIRING,
            target=airing.campaign.code, before=_audited(airing),
        )  # fmt: skip
    session.delete(airing)
    session.flush()
    return True


def parse_duration(raw: str | None) -> int:
    """Reads duration_seconds (empty: 30), or says in words what is wrong with it."""
    text = (raw or "").strip()
    if not text:
        return 30
    try:
        return int(text)
    except ValueError as exc:
        raise AiringError(f"duration_seconds {text!r} is not a whole number of seconds") from exc


def read_rows(text: str) -> csv.DictReader[str]:
    """A reader of the CSV text, comma or semicolon separated (as spreadsheets write it)."""
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(
            text.split("\n", 1)[0], delimiters=",;\t"
        )
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    missing = [f for f in CSV_FIELDS[:3] if f not in (reader.fieldnames or [])]
    if missing:
        raise AiringError(
            f"the CSV header lacks {', '.join(missing)} (expected {','.join(CSV_FIELDS)})"
        )
    return reader


def import_csv(session: Session, *, text: str, actor: Actor | None = None) -> tuple[int, list[str]]:
    """Imports airings from CSV text (campaign,station,aired_at,duration_seconds).

    A time without an offset is in the campaign's time zone. Returns how many were added and
    the problems of the rows that were skipped (a row already recorded is skipped, so
    importing a file twice adds nothing). Given who imports, each airing added is audited.
    """
    added, problems = 0, []
    for line, row in enumerate(read_rows(text), start=2):
        try:
            code = (row.get("campaign") or "").strip()
            campaign = session.scalar(select(Campaign).where(Campaign.code == code))
            zone = campaign.timezone if campaign is not None else "UTC"
            with session.begin_nested():
                create(
                    session,
                    campaign_code=code,
                    station=row.get("station") or "",
                    aired_at=parse_time(row.get("aired_at") or "", timezone=zone),
                    duration_seconds=parse_duration(row.get("duration_seconds")),
                    actor=actor,
                )
            added += 1
        except AiringError as exc:
            problems.append(f"line {line}: {exc}")
        except IntegrityError:
            # Another import recorded the same station and time between our check and insert.
            problems.append(f"line {line}: this station already has an airing at that time")
    return added, problems
