"""The reply outbox (campaigns.sms.models.SmsReply): queue, send, retry, erase.

A reply is queued in the transaction that records its inbound message, so a message that was
recorded is never left unanswered by a send API that was down. It is sent right after that
commit; a passing failure is retried by `send_due_replies` with exponential backoff
(OUTREACH_SEND_RETRY_BASE_SECONDS, doubling) up to OUTREACH_SEND_MAX_ATTEMPTS; a refusal (4xx)
fails it at once. Like the missed-call callbacks, no transaction is held across the network:
a reply is claimed (status "sending", a lease, one attempt more) and committed, sent, and its
result recorded. A process that dies between the claim and the record leaves a claim that is
sent again once its lease is over: at least once. Sent or failed, its number and text are erased.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.orm import Session

from campaigns.sms.models import ReplyStatus, SmsReply
from outreach.core.channels import get_sender
from outreach.core.context import AppContext
from outreach.core.db import session_scope
from outreach.core.gateway import GatewayError
from outreach.core.logs import event
from outreach.core.metrics import REPLIES

log = logging.getLogger(__name__)

# Replies the retry job sends per run; the rest wait for its next tick.
BATCH = 100


def queue_reply(
    session: Session,
    ctx: AppContext,
    *,
    interaction_id: int,
    gateway: str,
    sender: str,
    to: str,
    text: str,
    now: datetime,
) -> None:
    """Queues the reply to a recorded message, due now (in the caller's transaction)."""
    row = SmsReply(
        interaction_id=interaction_id,
        gateway=gateway,
        contact_id=ctx.contact_id(to),
        from_number=sender,
        sealed_number=ctx.vault.seal(to),
        sealed_text=ctx.vault.seal(text),
        status=ReplyStatus.PENDING,
        due_at=now,
        created_at=now,
    )
    session.add(row)


def cancel_open_replies(session: Session, *, contact_id: str) -> int:
    """Cancels a person's replies still waiting for an attempt (their STOP is honoured at
    once) and erases them; a reply being sent right now has left. Returns how many."""
    result = session.execute(
        update(SmsReply)
        .where(SmsReply.contact_id == contact_id, SmsReply.status == ReplyStatus.PENDING)
        .values(status=ReplyStatus.CANCELLED, sealed_number=None, sealed_text=None)
    )
    cancelled = int(result.rowcount or 0)  # type: ignore[attr-defined]
    if cancelled:
        event(log, "replies cancelled by stop", contact=contact_id, replies=cancelled)
    return cancelled


def send_reply(ctx: AppContext, reply_id: int) -> ReplyStatus | None:
    """Sends one open reply if no other process has it; returns its new status (None: it was
    not open, or another claim on it is still within its lease)."""
    return _send(ctx, SmsReply.id == reply_id)


def send_reply_of(ctx: AppContext, interaction_id: int) -> ReplyStatus | None:
    """Sends the open reply of an inbound message (after its webhook committed), if any."""
    return _send(ctx, SmsReply.interaction_id == interaction_id)


def _send(ctx: AppContext, which: ColumnElement[bool]) -> ReplyStatus | None:
    claim = _claim(ctx, which)
    if claim is None:
        return None
    reply_id, sealed_number, sealed_text, from_number, gateway, attempts = claim
    try:
        to, text = ctx.vault.open(sealed_number), ctx.vault.open(sealed_text)
    except ValueError:
        # Sealed under another key (OUTREACH_ENCRYPTION_KEY changed): it cannot be sent.
        return _record(ctx, reply_id, ReplyStatus.FAILED, error="key")
    try:
        result = get_sender(ctx, gateway).send_sms(
            to=to, from_=from_number, body=text, status_callback=None, attempts=1
        )
    except GatewayError as exc:
        final = exc.permanent or attempts >= ctx.settings.send_max_attempts
        status = ReplyStatus.FAILED if final else ReplyStatus.PENDING
        return _record(ctx, reply_id, status, error=str(exc.code or exc.status or "error"))
    return _record(ctx, reply_id, ReplyStatus.SENT, sid=result.sid)


def send_due_replies(ctx: AppContext) -> int:
    """The retry job: sends the replies due now and the claims past their lease; returns how
    many it tried."""
    now = ctx.clock()
    with ctx.sessions() as session:
        due = session.scalars(
            select(SmsReply.id)
            .where(
                or_(
                    (SmsReply.status == ReplyStatus.PENDING) & (SmsReply.due_at <= now),
                    (SmsReply.status == ReplyStatus.SENDING) & (SmsReply.claimed_until <= now),
                )
            )
            .order_by(SmsReply.due_at, SmsReply.id)
            .limit(BATCH)
        ).all()
    for reply_id in due:
        send_reply(ctx, reply_id)
    return len(due)


def _claim(
    ctx: AppContext, which: ColumnElement[bool]
) -> tuple[int, str, str, str, str, int] | None:
    """Claims the reply `which` selects: (id, sealed number, sealed text, our number, gateway,
    attempts), or None if there is none, it is not open, or another claim's lease holds."""
    now = ctx.clock()
    with session_scope(ctx.sessions) as session:
        row = session.scalar(select(SmsReply).where(which).with_for_update())
        if row is None or not row.sealed_number or not row.sealed_text or not _claimable(row, now):
            return None
        row.status, row.attempts = ReplyStatus.SENDING, row.attempts + 1
        row.claimed_until = now + timedelta(seconds=max(1, ctx.settings.dispatch_lease_seconds))
        return (
            row.id,
            row.sealed_number,
            row.sealed_text,
            row.from_number,
            row.gateway,
            row.attempts,
        )


def _claimable(row: SmsReply, now: datetime) -> bool:
    if row.status == ReplyStatus.PENDING:
        # Not before it is due: copies of its message arriving at once try it once.
        return row.due_at <= now
    lease = row.claimed_until
    return row.status == ReplyStatus.SENDING and (lease is None or lease <= now)


def _record(
    ctx: AppContext,
    reply_id: int,
    status: ReplyStatus,
    *,
    error: str | None = None,
    sid: str | None = None,
) -> ReplyStatus | None:
    """Records the send API's answer on a claimed reply (pending again, sent or failed)."""
    now = ctx.clock()
    with session_scope(ctx.sessions) as session:
        row = session.get(SmsReply, reply_id, with_for_update=True)
        if row is None or row.status != ReplyStatus.SENDING:
            log.warning("reply outcome not recorded", extra={"reply": reply_id})
            return None if row is None else ReplyStatus(row.status)
        gateway = row.gateway
        row.status, row.claimed_until = status, None
        if error is not None:
            row.error = error[:64]
        if status == ReplyStatus.PENDING:
            base = ctx.settings.send_retry_base_seconds
            row.due_at = now + timedelta(seconds=base * 2 ** max(0, row.attempts - 1))
            log.warning(
                "reply not sent, will retry",
                extra={"contact": row.contact_id, "attempts": row.attempts, "code": row.error},
            )
        else:
            row.sealed_number = row.sealed_text = None  # done for good: erased
            if status == ReplyStatus.SENT:
                row.message_sid, row.sent_at = sid, now
                event(log, "reply sent", contact=row.contact_id, gateway=row.gateway)
            else:
                log.warning(
                    "reply failed",
                    extra={"contact": row.contact_id, "attempts": row.attempts, "code": row.error},
                )
    # Counted once the outcome is committed.
    REPLIES.labels(gateway=gateway, status=str(status)).inc()
    return status
