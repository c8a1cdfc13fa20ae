"""Missed-call callbacks: reject the call (free for the caller), then call back on the same flow.

The caller's number is kept sealed (Fernet, OUTREACH_ENCRYPTION_KEY) only until the callback is
placed or has failed for good, then erased. Callbacks are limited per caller per local day
(OUTREACH_CALLBACKS_PER_DAY). The placed call's status callback (POST /twilio/voice/status on its
CallSid) then records on the row whether it was answered, or no_answer/busy/call_failed/canceled.
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from campaigns.registry.enums import Attribution, Channel, InteractionKind
from campaigns.registry.models import Interaction
from campaigns.voice.lines import Line
from campaigns.voice.models import OPEN_CALLBACKS, CallbackStatus, CallCallback
from outreach.core.context import AppContext
from outreach.core.db import session_scope
from outreach.core.gateway import GatewayError, get_gateway
from outreach.core.logs import event

log = logging.getLogger(__name__)

# A callback hours later surprises more than it helps; after this the number is erased unused.
CALLBACK_EXPIRY = timedelta(hours=1)


class CallGateway(Protocol):
    """The part of outreach.core.gateway.TwilioGateway this feature uses."""

    def place_call(
        self, *, to: str, from_: str, url: str, status_callback: str | None = None
    ) -> str: ...


def gateway_of(ctx: AppContext) -> CallGateway:
    """Returns the context's gateway (tests put a fake there) or Twilio's."""

    return get_gateway(ctx)


def record_missed_call(
    session: Session, ctx: AppContext, *, line: Line, call_sid: str, caller: str, now: datetime
) -> int | None:
    """Stores a missed call; returns the callback id to place, or None (limited or a retry)."""
    contact, country = ctx.identify(caller)
    campaign_id = line.campaign_id
    if session.scalar(select(CallCallback.id).where(CallCallback.missed_call_sid == call_sid)):
        return None
    tz = ZoneInfo(line.timezone)
    day_start = datetime.combine(now.astimezone(tz).date(), time(0), tzinfo=tz)
    today = (
        session.scalar(
            select(func.count())
            .where(CallCallback.contact_id == contact)
            .where(CallCallback.created_at >= day_start)
            .where(CallCallback.status != CallbackStatus.LIMITED)
        )
        or 0
    )
    limited = today >= ctx.settings.callbacks_per_day
    row = CallCallback(
        campaign_id=campaign_id,
        missed_call_sid=call_sid,
        contact_id=contact,
        from_number=line.number,
        sealed_number=None if limited else ctx.vault.seal(caller),
        status=CallbackStatus.LIMITED if limited else CallbackStatus.PENDING,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.add(
                Interaction(
                    campaign_id=campaign_id,
                    channel=Channel.VOICE,
                    kind=InteractionKind.MISSED_CALL,
                    attribution=Attribution.NUMBER,
                    number=line.number,
                    contact_id=contact,
                    country=country,
                    created_at=now,
                    external_sid=call_sid,
                )
            )
    except IntegrityError:
        return None  # a copy of this missed call, recorded by another request first
    event(log, "missed call", contact=contact, campaign=campaign_id, limited=limited)
    return None if limited else row.id


def place_callback(ctx: AppContext, callback_id: int) -> CallbackStatus | None:
    """Places a pending callback through the gateway; erases the number once done for good.

    Three steps, none holding a transaction across the network: the callback is claimed
    (status "placing", a lease, one attempt more) and committed; the gateway is called; its
    answer is recorded. On SQLite a transaction is the database's one write lock, which every
    webhook would otherwise have waited on for as long as the gateway took. A worker that dies
    between the claim and the record leaves a claim that `retry_pending_callbacks` places
    again once its lease is over: at least once, as the follow-up outbox.
    """
    claim = _claim(ctx, callback_id)
    if claim is None:
        return None
    sealed, from_number, attempts = claim
    base = ctx.settings.public_url.rstrip("/")
    try:
        number = ctx.vault.open(sealed)
    except ValueError:
        # The sealed number cannot be opened (key changed): nothing can be done with it.
        return _record(ctx, callback_id, CallbackStatus.FAILED, error="key")
    try:
        sid = gateway_of(ctx).place_call(
            to=number,
            from_=from_number,
            url=f"{base}/twilio/voice",
            status_callback=f"{base}/twilio/voice/status",
        )
    except GatewayError as exc:
        final = exc.permanent or attempts >= ctx.settings.send_max_attempts
        status = CallbackStatus.FAILED if final else CallbackStatus.PENDING
        return _record(ctx, callback_id, status, error=str(exc.code or exc.status or "error"))
    return _record(ctx, callback_id, CallbackStatus.PLACED, call_sid=sid)


def _claim(ctx: AppContext, callback_id: int) -> tuple[str, str, int] | None:
    """Claims a callback to place: (sealed number, our number, attempts), or None if it is
    not open, or another worker's claim on it is still within its lease."""
    now = ctx.clock()
    with session_scope(ctx.sessions) as session:
        row = session.get(CallCallback, callback_id, with_for_update=True)
        if row is None or not row.sealed_number or not _claimable(row, now):
            return None
        row.status, row.attempts = CallbackStatus.PLACING, row.attempts + 1
        row.claimed_until = now + timedelta(seconds=max(1, ctx.settings.dispatch_lease_seconds))
        return row.sealed_number, row.from_number, row.attempts


def _claimable(row: CallCallback, now: datetime) -> bool:
    if row.status == CallbackStatus.PENDING:
        return True
    lease = row.claimed_until
    return row.status == CallbackStatus.PLACING and (lease is None or lease <= now)


def _record(
    ctx: AppContext,
    callback_id: int,
    status: CallbackStatus,
    *,
    error: str | None = None,
    call_sid: str | None = None,
) -> CallbackStatus | None:
    """Records the gateway's answer on a claimed callback (pending again, placed or failed)."""
    with session_scope(ctx.sessions) as session:
        row = session.get(CallCallback, callback_id, with_for_update=True)
        if row is None or row.status != CallbackStatus.PLACING:
            # Given up (expired) meanwhile, or another worker's claim ended it first.
            log.warning("callback outcome not recorded", extra={"callback": callback_id})
            return None if row is None else CallbackStatus(row.status)
        row.status, row.claimed_until = status, None
        if status != CallbackStatus.PENDING:
            row.sealed_number = None  # placed or failed for good: the number is erased
        if error is not None:
            row.error = error[:64]
        if status == CallbackStatus.PLACED:
            assert call_sid is not None
            row.call_sid, row.placed_at = call_sid, ctx.clock()
            event(log, "callback placed", contact=row.contact_id, call=call_sid[:64])
        elif error == "key":
            log.warning("callback number unreadable", extra={"contact": row.contact_id})
        else:
            log.warning(
                "callback not placed",
                extra={
                    "contact": row.contact_id,
                    "final": status == CallbackStatus.FAILED,
                    "code": row.error,
                },
            )
        return status


# Twilio's CallStatus of a placed callback -> what it means for the callback.
_CALL_STATUS = {
    "in-progress": CallbackStatus.ANSWERED,
    "completed": CallbackStatus.ANSWERED,
    "no-answer": CallbackStatus.NO_ANSWER,
    "busy": CallbackStatus.BUSY,
    "failed": CallbackStatus.CALL_FAILED,
    "canceled": CallbackStatus.CANCELED,
}


def record_callback_status(
    session: Session, *, call_sid: str, status: str
) -> CallbackStatus | None:
    """Records how a placed callback's call went; returns its new status (None: not a callback)."""
    outcome = _CALL_STATUS.get(status)
    row = session.scalar(
        select(CallCallback).where(CallCallback.call_sid == call_sid).with_for_update()
    )
    if row is None:
        return None
    # Statuses can arrive late or twice: only a placed callback moves; an outcome stays.
    if outcome is not None and row.status == CallbackStatus.PLACED:
        row.status = outcome
        event(log, "callback call ended", contact=row.contact_id, status=outcome.value)
    return CallbackStatus(row.status)


def retry_pending_callbacks(ctx: AppContext) -> int:
    """Tries open callbacks again (pending ones, and claims whose worker died past the lease)
    and gives up stale ones (erasing them); returns tries."""
    now = ctx.clock()
    cutoff = now - CALLBACK_EXPIRY
    with session_scope(ctx.sessions) as session:
        open_rows = select(CallCallback).where(CallCallback.status.in_(OPEN_CALLBACKS))
        ids = []
        for row in session.scalars(open_rows.with_for_update()):
            if not _claimable(row, now):
                continue  # being placed right now, within its lease
            if row.created_at < cutoff:
                row.status, row.sealed_number, row.error = CallbackStatus.FAILED, None, "expired"
                row.claimed_until = None
            else:
                ids.append(row.id)
    for callback_id in ids:
        place_callback(ctx, callback_id)
    return len(ids)
