"""Records changes in the audit log and reads them back, filtered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from campaigns.audit.models import AuditEntry


class Interface(StrEnum):
    """Where a change came from."""

    BROWSER = "browser"
    API = "api"
    CLI = "cli"


class TargetKind(StrEnum):
    CAMPAIGN = "campaign"
    USER = "user"
    TOKEN = "token"  # noqa: S105 (a kind of target, not a secret)
    AIRING = "airing"


@dataclass(frozen=True)
class Actor:
    """Who makes a change (a username, or `file:NAME` for a campaigns file) and from where."""

    name: str
    interface: Interface


def diff(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[str]:
    """Returns the keys whose values differ between two documents, in a stable order."""
    old, new = before or {}, after or {}
    keys = list(dict.fromkeys([*old, *new]))
    return [key for key in keys if old.get(key) != new.get(key)]


def record(
    session: Session,
    *,
    actor: Actor,
    action: str,
    kind: TargetKind,
    target: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    version: int | None = None,
) -> AuditEntry:
    """Adds an entry holding only the fields that changed (all of them on create/delete)."""
    changed = diff(before, after)
    entry = AuditEntry(
        actor=actor.name[:64],
        interface=str(actor.interface),
        action=action,
        target_kind=str(kind),
        target=target[:64],
        version=version,
        before={k: (before or {}).get(k) for k in changed} if before is not None else None,
        after={k: (after or {}).get(k) for k in changed} if after is not None else None,
    )
    session.add(entry)
    return entry


@dataclass(frozen=True)
class AuditFilter:
    """What the audit page shows: any of these may be left out."""

    actor: str | None = None
    interface: Interface | None = None
    kind: TargetKind | None = None
    target: str | None = None
    start: date | None = None
    end: date | None = None
    limit: int = 200


def entries(session: Session, flt: AuditFilter) -> list[AuditEntry]:
    """Returns the newest entries matching the filter (UTC days)."""
    query: Select[tuple[AuditEntry]] = select(AuditEntry)
    if flt.actor:
        query = query.where(AuditEntry.actor == flt.actor)
    if flt.interface:
        query = query.where(AuditEntry.interface == str(flt.interface))
    if flt.kind:
        query = query.where(AuditEntry.target_kind == str(flt.kind))
    if flt.target:
        query = query.where(AuditEntry.target == flt.target)
    if flt.start:
        query = query.where(AuditEntry.at >= datetime.combine(flt.start, time.min, UTC))
    if flt.end:
        query = query.where(
            AuditEntry.at < datetime.combine(flt.end + timedelta(days=1), time.min, UTC)
        )
    query = query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(flt.limit)
    return list(session.scalars(query))


def last_change(session: Session, *, kind: TargetKind, target: str) -> AuditEntry | None:
    """Returns the newest entry about one target."""
    query = (
        select(AuditEntry)
        .where(AuditEntry.target_kind == str(kind), AuditEntry.target == target)
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )
    return session.scalar(query)
