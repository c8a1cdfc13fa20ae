"""Outbox queries: claim a batch atomically, take back expired leases, release a row."""

from __future__ import annotations

import itertools
import logging
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from campaigns.followups.models import Enrollment, OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)


def claim_batch(
    session: Session,
    *,
    now: datetime,
    token: str,
    per_sender: int,
    lease: timedelta,
    skip_locked: bool,
) -> list[int]:
    """Marks due rows as ours in one statement (atomic on both databases); returns their ids.

    Takes at most `per_sender` rows per sender number, oldest first: with an equal share per
    sender the batch goes out in turns, and no sender's rate limit idles the others.
    """
    is_due = (OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.due_at <= now)
    order = (OutboxMessage.due_at, OutboxMessage.id)
    ranked = (
        select(
            OutboxMessage.id,
            func.row_number().over(partition_by=Enrollment.sender, order_by=order).label("n"),
        )
        .join(Enrollment, Enrollment.id == OutboxMessage.enrollment_id)
        .where(*is_due)
        .subquery()
    )
    share = select(ranked.c.id).where(ranked.c.n <= per_sender)
    due = select(OutboxMessage.id).where(*is_due, OutboxMessage.id.in_(share)).order_by(*order)
    if skip_locked:
        # PostgreSQL: concurrent workers skip each other's rows instead of waiting.
        due = due.with_for_update(skip_locked=True)
    # SQLite: the UPDATE takes the database write lock before it reads, so one claimer at a
    # time sees the pending rows; the claim token tells each worker which rows are its own.
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(due.scalar_subquery()))
        .values(
            status=OutboxStatus.CLAIMED,
            claim_token=token,
            lease_until=now + lease,
            attempts=OutboxMessage.attempts + 1,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    claimed = session.execute(
        select(OutboxMessage.id, Enrollment.sender)
        .join(Enrollment, Enrollment.id == OutboxMessage.enrollment_id)
        .where(OutboxMessage.claim_token == token)
        .order_by(*order)
    ).all()
    return interleaved([(row_id, sender) for row_id, sender in claimed])


def reclaim_expired(session: Session, *, now: datetime, max_attempts: int) -> int:
    """Puts rows whose lease ran out back to pending (failed when out of attempts)."""
    expired = (OutboxMessage.status == OutboxStatus.CLAIMED, OutboxMessage.lease_until < now)
    session.execute(
        update(OutboxMessage)
        .where(*expired, OutboxMessage.attempts >= max_attempts)
        .values(status=OutboxStatus.FAILED, claim_token=None, lease_until=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    result = session.execute(
        update(OutboxMessage)
        .where(*expired)
        .values(status=OutboxStatus.PENDING, claim_token=None, lease_until=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    count = int(getattr(result, "rowcount", 0) or 0)
    if count:
        log.warning("re-queued follow-ups whose lease expired", extra={"rows": count})
    return count


def interleaved(rows: list[tuple[int, str]]) -> list[int]:
    """Orders a batch round-robin by sender, so one sender's rate limit never idles the rest."""
    queues: dict[str, list[int]] = {}
    for row_id, sender in rows:
        queues.setdefault(sender, []).append(row_id)
    ordered: list[int] = []
    for turn in itertools.zip_longest(*queues.values()):
        ordered.extend(row_id for row_id in turn if row_id is not None)
    return ordered


def release(
    row: OutboxMessage, now: datetime, *, due_at: datetime | None = None, attempt_used: bool = False
) -> None:
    """Gives a claimed row back to the queue; an unused claim does not count as an attempt."""
    row.status = OutboxStatus.PENDING
    row.claim_token = None
    row.lease_until = None
    row.updated_at = now
    if due_at is not None:
        row.due_at = due_at
    if not attempt_used:
        row.attempts = max(0, row.attempts - 1)


def backlog(session: Session, *, now: datetime) -> tuple[int, datetime | None]:
    """Returns how many messages are due and not yet claimed, and the oldest one's due time.

    One query on the (status, due_at) index: cheap enough for every metrics scrape.
    """
    count, oldest = session.execute(
        select(func.count(), func.min(OutboxMessage.due_at)).where(
            OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.due_at <= now
        )
    ).one()
    return int(count), oldest
