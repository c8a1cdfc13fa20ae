"""Recording a prompt by phone: one-time codes, pending recordings, approval.

A manager asks for a code for one prompt slot; only its HMAC is stored, with the flow, the
slot, the manager and an expiry. The first call that enters it spends it (the call's CallSid
HMAC is kept, so Twilio's retries of that same call are answered alike). The recording that
call makes arrives as a pending recording; approving it attaches it as an upload would.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from campaigns.flows.audio import Stored, attach_stored, head_with_slot
from campaigns.flows.models import PendingRecording, RecordingCode, StoredFlow, StudioFailures
from outreach.core.privacy import contact_id

CODE_DIGITS = 6
CODE_LIFETIME = timedelta(minutes=10)
MAX_TRIES = 3  # codes a caller may enter in one call
MAX_CALLER_FAILURES = 10  # wrong codes from one caller an hour, across calls
FAILURE_WINDOW = timedelta(hours=1)
ISSUE_ATTEMPTS = 20
PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"


class AlreadyDecided(LookupError):
    """No pending recording by that id for that flow (unknown, or approved/rejected already)."""


@dataclass(frozen=True)
class Issued:
    code: str
    expires_at: datetime


@dataclass(frozen=True)
class Claimed:
    code_id: int
    flow_key: str
    slot: str
    requested_by: str
    caller_hash: str


def keyed(value: str, key: str) -> str:
    """HMAC-SHA256 under the hash key: codes, CallSids and callers are stored only so."""
    return hmac.new(key.encode(), value.encode(), hashlib.sha256).hexdigest()


def issue_code(
    session: Session, *, key: str, slot: str, user: str, hash_key: str, now: datetime
) -> Issued:
    """A fresh code for the slot of the flow's newest version (AudioRefused if it has none)."""
    stored, _ = head_with_slot(session, key, slot)
    session.execute(delete(RecordingCode).where(RecordingCode.expires_at <= now))
    for _ in range(ISSUE_ATTEMPTS):
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        expires = now + CODE_LIFETIME
        row = RecordingCode(
            flow_id=stored.id,
            slot=slot,
            code_hash=keyed(code, hash_key),
            created_by=user[:64],
            expires_at=expires,
        )
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:
            continue  # that code is live for someone else: draw another
        return Issued(code, expires)
    raise RuntimeError("could not draw a free recording code")


def claim_code(
    session: Session, *, code: str, call_sid: str, caller: str, hash_key: str, now: datetime
) -> Claimed | None:
    """Spends a live code for this call; None if wrong, expired or spent by another call."""
    if len(code) != CODE_DIGITS or not code.isdigit():
        return None
    call_hash = keyed(call_sid, hash_key)
    done = session.execute(
        update(RecordingCode)
        .where(
            RecordingCode.code_hash == keyed(code, hash_key),
            RecordingCode.expires_at > now,
            or_(RecordingCode.used_at.is_(None), RecordingCode.call_hash == call_hash),
        )
        .values(used_at=now, call_hash=call_hash, caller_hash=contact_id(caller, hash_key))
        .execution_options(synchronize_session=False)
    )
    if getattr(done, "rowcount", 0) != 1:
        return None
    row = session.scalar(
        select(RecordingCode).where(
            RecordingCode.code_hash == keyed(code, hash_key), RecordingCode.call_hash == call_hash
        )
    )
    return _claimed(session, row) if row is not None else None


def caller_blocked(session: Session, *, caller: str, hash_key: str, now: datetime) -> bool:
    """Whether this caller entered MAX_CALLER_FAILURES wrong codes in the current window."""
    row = session.scalar(
        select(StudioFailures).where(StudioFailures.caller_hash == contact_id(caller, hash_key))
    )
    return (
        row is not None
        and row.window_start > now - FAILURE_WINDOW
        and row.failures >= MAX_CALLER_FAILURES
    )


def count_failure(session: Session, *, caller: str, hash_key: str, now: datetime) -> None:
    """Counts a wrong code against the caller (a new window once the last one has passed)."""
    digest = contact_id(caller, hash_key)
    try:
        with session.begin_nested():
            session.add(StudioFailures(caller_hash=digest, failures=1, window_start=now))
        return
    except IntegrityError:
        pass  # the caller has a row: count on it
    expired = StudioFailures.window_start <= now - FAILURE_WINDOW
    session.execute(
        update(StudioFailures)
        .where(StudioFailures.caller_hash == digest)
        .values(
            failures=case((expired, 1), else_=StudioFailures.failures + 1),
            window_start=case((expired, now), else_=StudioFailures.window_start),
        )
        .execution_options(synchronize_session=False)
    )


def code_of_call(session: Session, *, code_id: int, call_sid: str, hash_key: str) -> Claimed | None:
    """The code this call spent (a recording callback must come from that call)."""
    row = session.scalar(
        select(RecordingCode).where(
            RecordingCode.id == code_id, RecordingCode.call_hash == keyed(call_sid, hash_key)
        )
    )
    return _claimed(session, row) if row is not None else None


def _claimed(session: Session, row: RecordingCode) -> Claimed:
    flow = session.get_one(StoredFlow, row.flow_id)
    return Claimed(row.id, flow.key, row.slot, row.created_by, row.caller_hash)


def known_recording(session: Session, recording_sid: str) -> bool:
    found = select(PendingRecording.id).where(PendingRecording.recording_sid == recording_sid)
    return session.scalar(found) is not None


def add_pending(
    session: Session, *, claimed: Claimed, recording_sid: str, token: str, wav: bytes,
    duration_ms: int,
) -> bool:  # fmt: skip
    """Adds the pending recording; False if a copy of the callback added it first."""
    flow = session.scalar(select(StoredFlow).where(StoredFlow.key == claimed.flow_key))
    if flow is None:
        return False
    try:
        with session.begin_nested():
            session.add(
                PendingRecording(
                    flow_id=flow.id,
                    code_id=claimed.code_id,
                    slot=claimed.slot,
                    recording_sid=recording_sid,
                    token=token,
                    bytes=len(wav),
                    duration_ms=duration_ms,
                    sha256=hashlib.sha256(wav).hexdigest(),
                    caller_hash=claimed.caller_hash,
                    requested_by=claimed.requested_by,
                )
            )
    except IntegrityError:
        return False
    return True


def pending(session: Session, flow: StoredFlow) -> list[PendingRecording]:
    rows = select(PendingRecording).where(
        PendingRecording.flow_id == flow.id, PendingRecording.status == PENDING
    )
    return list(session.scalars(rows.order_by(PendingRecording.id)))


def decide(
    session: Session, *, flow: StoredFlow, pending_id: int, approve: bool, user: str,
    wav: bytes | None = None,
) -> Stored | None:  # fmt: skip
    """Approves (attaching it as an upload would; `wav`: its file) or rejects a pending
    recording, once: a second decision, or a copy of this one, raises AlreadyDecided."""
    done = session.execute(
        update(PendingRecording)
        .where(
            PendingRecording.id == pending_id,
            PendingRecording.flow_id == flow.id,
            PendingRecording.status == PENDING,
        )
        .values(status=APPROVED if approve else REJECTED, decided_by=user[:64])
        .execution_options(synchronize_session=False)
    )
    if getattr(done, "rowcount", 0) != 1:
        raise AlreadyDecided("this recording was approved or rejected already")
    if not approve:
        return None
    row = session.get_one(PendingRecording, pending_id)
    return attach_stored(
        session, key=flow.key, slot=row.slot, token=row.token, wav=wav or b"",
        duration_ms=row.duration_ms, user=user, note=f"recording {row.slot} (by phone)",
    )  # fmt: skip


def pending_row(session: Session, flow: StoredFlow, pending_id: int) -> PendingRecording | None:
    row = session.get(PendingRecording, pending_id)
    return row if row is not None and row.flow_id == flow.id else None
