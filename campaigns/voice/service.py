"""Voice calls as a service: start a call on its flow, take each step, record status.

Call state lives in the `calls` row keyed by CallSid, so any worker can answer the next step.
Each answer carries a step number (`seq`) in its Gather/Dial/Redirect URL; a retried step
gets the cached answer, a stale or out-of-order one gets the current answer again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import Table, bindparam, delete, select, update
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from campaigns.flows.service import load_version
from campaigns.followups.enrol import open_series
from campaigns.registry.cache import TOKEN_COLUMN, campaign_timezone, hotline_timezone, token_read
from campaigns.registry.enums import Attribution, Channel, InteractionKind
from campaigns.registry.models import Interaction
from campaigns.voice.effects import add_event, apply_effects
from campaigns.voice.lines import Line, find_line, psa_campaigns
from campaigns.voice.models import Call, CallDirection, CallEventKind
from ivr_flows.actions import (
    Action,
    CallState,
    EffectKind,
    EngineContext,
    Input,
    InputKind,
    Outcome,
    Step,
)
from ivr_flows.engine import step
from ivr_flows.loader import FlowError, load_flow
from ivr_flows.model import Flow, Issue, NodeKind
from outreach.core.context import AppContext
from outreach.core.db import insert_ignoring
from outreach.core.logs import event
from outreach.core.metrics import CALLS_STARTED, count_on_commit

log = logging.getLogger(__name__)

# Turns a step's actions into TwiML whose callbacks carry step number `seq` (the web layer's).
Renderer = Callable[[list[Action], int], str]

__all__ = ["Line", "find_line", "line_flow", "record_status", "start_call", "step_call"]

FINAL_STATUSES = frozenset({"completed", "busy", "no-answer", "canceled", "failed"})
# Twilio's CallStatus values in the order a call goes through them; the final ones rank last.
STATUS_ORDER = ("queued", "initiated", "ringing", "in-progress")
MAX_DIGITS = 32
# A step's SELECT of its call (with the row lock), built once: building and cache-keying it
# per request cost more than running it.
# The call row, locked, and the registry token with it (one round trip, not two).
_CALL_FOR_STEP = (
    select(Call, TOKEN_COLUMN).where(Call.call_sid == bindparam("sid")).with_for_update(of=Call)
)
_CALLS: Table = Call.__table__  # type: ignore[assignment]
_INTERACTIONS: Table = Interaction.__table__  # type: ignore[assignment]
# A new call's row and its interaction row, each inserted unless its key is taken.
_NEW_CALL = insert_ignoring(_CALLS, _CALLS.c.id, index_elements=["call_sid"])
_NEW_INTERACTION = insert_ignoring(_INTERACTIONS, _INTERACTIONS.c.id)
# What a step may change on its call's row. The step writes them all back with one UPDATE
# that also moves `seq` on, only from the step's own number (see `_write_step`).
STEP_COLUMNS = (
    "seq",
    "state",
    "last_twiml",
    "events",
    "results",
    "language",
    "psa_code",
    "campaign_id",
    "attribution",
    "outcome",
    "ended_node",
    "ended_at",
)
_WRITE_STEP = (
    update(_CALLS)
    .where(_CALLS.c.id == bindparam("w_id"), _CALLS.c.seq == bindparam("w_from_seq"))
    .values({name: bindparam(f"w_{name}") for name in STEP_COLUMNS})
)


class StaleStep(Exception):
    """The call's step moved on under this one: it is not applied (its transaction is retried)."""


def _write_step(session: Session, call: Call, *, from_seq: int) -> None:
    """Writes the step's changes to the call row (Core), if the row is still at `from_seq`.

    Of all copies of a step only the one that moves `seq` on applies it. The row lock of the
    step's SELECT (PostgreSQL) and the write lock taken at BEGIN (SQLite) already serialise
    the copies, so a later copy reads the new `seq` and answers the cached TwiML; this guard
    still holds where they do not, and undoes the step whole (its transaction fails). The ORM
    then knows the values as written, so the commit flushes nothing more for the call.
    """
    params = {f"w_{name}": getattr(call, name) for name in STEP_COLUMNS}
    params["w_seq"] = from_seq + 1
    written = session.connection().execute(
        _WRITE_STEP, {"w_id": call.id, "w_from_seq": from_seq, **params}
    )
    if getattr(written, "rowcount", 0) != 1:
        raise StaleStep(f"call {call.id} is no longer at step {from_seq}")
    for name in STEP_COLUMNS:
        set_committed_value(call, name, params[f"w_{name}"])
    if not session.is_modified(call):
        # Written whole: out of the session, the commit has nothing of it to flush (a change
        # an effect handler made elsewhere on the call would keep it in, to be flushed).
        session.expunge(call)


def _run_step(
    session: Session,
    flow: Flow,
    state: CallState,
    inp: Input,
    *,
    now: datetime,
    timezone: str,
    codes: dict[str, int],
    campaign_id: int | None,
    contact: str,
    caller: str | None,
    number: str,
) -> Step:
    """Runs one engine step, telling it which follow-up series the caller can opt in to."""
    if not any(node.kind is NodeKind.OPTIN for node in flow.nodes.values()):
        return step(flow, state, inp, EngineContext(now, timezone, frozenset(codes)))

    def run(campaign: int | None) -> Step:
        @cache
        def series() -> frozenset[str]:
            if not caller:
                return frozenset()
            # The dialed number is the sender opt_in falls back to (see the voice opt-in handler).
            return open_series(session, campaign_id=campaign, contact_id=contact, sender=number)

        ctx = EngineContext(now, timezone, frozenset(codes), opt_in_lookup=series)
        return step(flow, state, inp, ctx)

    result = run(campaign_id)
    keyed = next((e for e in result.effects if e.kind is EffectKind.PSA_CODE), None)
    attributed = codes.get(keyed.data.get("code", "")) if keyed is not None else None
    if attributed is not None and attributed != campaign_id:
        # The code keyed in this step attributes the call: offer that campaign's opt-in.
        result = run(attributed)
    return result


def start_call(
    session: Session,
    ctx: AppContext,
    *,
    line: Line,
    call_sid: str,
    caller: str,
    direction: CallDirection,
    now: datetime,
    render: Renderer,
) -> str | None:
    """Creates the call record, runs the flow's first step and returns its TwiML."""
    contact, country = ctx.identify(caller)
    # A retried CallSid is found by the insert below (its unique key), not looked up first:
    # a new call, by far the most common, is one statement less.
    flow = line_flow(session, ctx, line)
    attribution = Attribution.NUMBER if line.campaign_id is not None else Attribution.NONE
    codes = psa_campaigns(session)
    campaign_id = line.campaign_id
    result = _run_step(
        session,
        flow,
        CallState(),
        Input(InputKind.START),
        now=now,
        timezone=line.timezone,
        codes=codes,
        campaign_id=campaign_id,
        contact=contact,
        caller=caller,
        number=line.number,
    )
    # apply_effects appends one event per effect: the row is inserted with them counted.
    trail = len(result.effects)
    call = _record_call(
        session,
        events=trail,
        values={
            "call_sid": call_sid,
            "campaign_id": campaign_id,
            "hotline_id": line.hotline_id,
            "flow_id": flow.id,
            "flow_file": str(line.flow_file or ""),
            "flow_version_id": line.flow_version_id,
            "simulated": line.simulated,
            "direction": direction,
            "number": line.number,
            "contact_id": contact,
            "country": country,
            "attribution": attribution.value,
            "psa_code": None,
            "language": None,
            "state": result.state.to_dict(),
            "results": {},
            "seq": 1,
            "events": 0,
            "last_twiml": render(result.actions, 1),
            "outcome": None,
            "ended_node": None,
            "status": None,
            "duration_seconds": None,
            "started_at": now,
            "ended_at": None,
            "updated_at": now,
        },
    )
    if call is not None and not line.simulated and not _count_call(session, call, attribution):
        call = None  # another request counted this CallSid first (a simulated call is never)
    if call is None:
        # A retry of a known call, or another worker took the same call first: its TwiML.
        again = session.scalar(select(Call).where(Call.call_sid == call_sid))
        return _retried(again, contact) if again is not None else None
    apply_effects(
        session, ctx, call=call, effects=result.effects, psa_campaigns=codes, caller=caller, now=now
    )
    if call.events == trail:
        # The INSERT counted them: unless an effect changed more of the call, the commit
        # has nothing of it to flush (out of the session, as a step's call after its write).
        set_committed_value(call, "events", trail)
        if not session.is_modified(call):
            session.expunge(call)
    count_on_commit(session, CALLS_STARTED.labels(direction=direction.value))
    event(
        log,
        "call started",
        call=call_sid,
        contact=contact,
        campaign=campaign_id,
        flow=flow.id,
        direction=direction.value,
    )
    return call.last_twiml


def _record_call(session: Session, *, values: dict[str, Any], events: int) -> Call | None:
    """Inserts a new call's row, the step's TwiML and state in it; None if its CallSid is known.

    One INSERT ... ON CONFLICT DO NOTHING: a retried CallSid (or a copy of the request that
    another worker took first) inserts nothing, with no savepoint around the insert (two round
    trips fewer than catching the unique key's IntegrityError). The row is then the session's,
    as if it had been loaded, so what the effects change goes out in one UPDATE at the commit.
    The row counts the `events` the first step is about to append; the call object counts
    none yet, so that `add_events` numbers them from 0.
    """
    connection = session.connection()
    created = connection.execute(
        _NEW_CALL[connection.dialect.name], {**values, "events": events}
    ).scalar()
    if created is None:
        return None
    call = Call(id=created, **values)
    make_transient_to_detached(call)
    session.add(call)
    return call


def _count_call(session: Session, call: Call, attribution: Attribution) -> bool:
    """Inserts the call's Interaction row (what the reports count); False if one was there.

    Then the call row just inserted is taken back: the call is not this request's to run.
    """
    connection = session.connection()
    row = _interaction(call, attribution)
    counted = connection.execute(_NEW_INTERACTION[connection.dialect.name], row).scalar()
    if counted is None:
        session.expunge(call)
        connection.execute(delete(_CALLS).where(_CALLS.c.id == call.id))
    return counted is not None


def _interaction(call: Call, attribution: Attribution) -> dict[str, Any]:
    """The call's Interaction row, counted in the reports (a simulated call has none)."""
    return {
        "campaign_id": call.campaign_id,
        "channel": Channel.VOICE,
        "kind": InteractionKind.CALL,
        "attribution": attribution,
        "number": call.number,
        "contact_id": call.contact_id,
        "country": call.country,
        "created_at": call.started_at,
        "external_sid": call.call_sid,
    }


def line_flow(session: Session, ctx: AppContext, line: Line) -> Flow:
    """The flow a new call runs: the stored live version, else the flow file on disk."""
    if line.flow_version_id is not None:
        return load_version(session, line.flow_version_id, ctx.settings.public_url)
    if line.flow_file is None:
        raise FlowError(line.number, [Issue("(flow)", "the line has no voice flow")])
    return load_flow(line.flow_file)


def _call_flow(session: Session, ctx: AppContext, call: Call) -> Flow:
    """The flow a call goes on with: the version it started on, whatever is live since."""
    if call.flow_version_id is not None:
        return load_version(session, call.flow_version_id, ctx.settings.public_url)
    return load_flow(Path(call.flow_file))


def _retried(call: Call, contact: str) -> str | None:
    """Answers a call entry whose CallSid is already known: a retry, or another caller's."""
    if call.contact_id != contact:
        # The gateway reused the id for someone else: never hand them that call's state.
        log.warning("call entry reuses another caller's CallSid; refused", extra=_ids(call))
        return None
    return call.last_twiml or None


def _ids(call: Call) -> dict[str, str]:
    return {"call": call.call_sid[:64], "contact": call.contact_id}


def _input(event_name: str, digits: str, dial_status: str) -> Input:
    if event_name == "continue":
        return Input(InputKind.CONTINUE)
    if event_name == "dial":
        return Input(InputKind.DIAL, dial_status)
    keys = "".join(c for c in digits[:MAX_DIGITS] if c.isdigit() or c in "*#")
    return Input.keys(keys)


def step_call(
    session: Session,
    ctx: AppContext,
    *,
    call_sid: str,
    seq: int | None,
    digits: str,
    event_name: str,
    dial_status: str,
    caller: str | None,
    now: datetime,
    render: Renderer,
) -> str | None:
    """Takes one step and returns its TwiML (None: no such call); a retry gets the cached one."""
    found = session.execute(_CALL_FOR_STEP, {"sid": call_sid}).first()
    if found is None:
        log.warning("voice step for an unknown call", extra={"call": call_sid[:64]})
        return None
    call: Call = found[0]
    token_read(session, found[1])
    if caller is not None and ctx.contact_id(caller) != call.contact_id:
        # Not this call's caller (a reused CallSid): it must not move the call, nor opt in.
        log.warning("voice step from another caller than the call's; refused", extra=_ids(call))
        return None
    if seq != call.seq:
        # A retry of the answered step, or a stale/forged one: repeat where the call stands.
        return call.last_twiml or None
    state = CallState.from_dict(call.state)
    if state.ended:
        return call.last_twiml
    # `call.seq` moves on only in `_write_step`: an effect handler's savepoint flushes the
    # call, and must not move it on unguarded.
    flow = _call_flow(session, ctx, call)
    codes = psa_campaigns(session)
    timezone = _timezone(session, ctx, call)
    result = _run_step(
        session,
        flow,
        state,
        _input(event_name, digits, dial_status),
        now=now,
        timezone=timezone,
        codes=codes,
        campaign_id=call.campaign_id,
        contact=call.contact_id,
        caller=caller,
        number=call.number,
    )
    apply_effects(
        session, ctx, call=call, effects=result.effects, psa_campaigns=codes, caller=caller, now=now
    )
    call.state = result.state.to_dict()
    call.last_twiml = render(result.actions, seq + 1)
    _write_step(session, call, from_seq=seq)
    return call.last_twiml


def _timezone(session: Session, ctx: AppContext, call: Call) -> str:
    if call.hotline_id is not None:
        exists, zone = hotline_timezone(session, call.hotline_id)
        if exists:
            return zone or ctx.settings.default_timezone
    if call.campaign_id is not None and call.attribution == Attribution.NUMBER.value:
        campaign_zone = campaign_timezone(session, call.campaign_id)
        if campaign_zone is not None:
            return campaign_zone
    return ctx.settings.default_timezone


def fail_call(session: Session, *, call_sid: str, now: datetime, twiml: str) -> None:
    """Marks a call as ended in error (after a mid-call failure); retries get `twiml`."""
    call = session.scalar(select(Call).where(Call.call_sid == call_sid))
    if call is not None and call.outcome is None:
        state = CallState.from_dict(call.state)
        state.ended, state.outcome = True, Outcome.ERROR.value
        call.state, call.outcome = state.to_dict(), Outcome.ERROR.value
        call.ended_node, call.ended_at = state.node or None, now
        call.seq += 1
        call.last_twiml = twiml
        add_event(
            session, call, CallEventKind.ENDED, state.node or "?", now, value=Outcome.ERROR.value
        )


def _status_rank(status: str | None) -> int:
    """Ranks a CallStatus: unknown -1, then STATUS_ORDER, then any final status."""
    if status in FINAL_STATUSES:
        return len(STATUS_ORDER)
    return STATUS_ORDER.index(status) if status in STATUS_ORDER else -1


def record_status(
    session: Session, *, call_sid: str, status: str, duration: int | None, now: datetime
) -> bool:
    """Stores Twilio's call status; a call that ends mid-flow counts as hung up there."""
    call = session.scalar(select(Call).where(Call.call_sid == call_sid).with_for_update())
    if call is None:
        return False
    # Callbacks arrive late, twice and out of order: a call's status only moves forward, and
    # a duration once known is kept (a repeated "completed" may carry 0 or none).
    if call.status is None or _status_rank(status) > _status_rank(call.status):
        call.status = status[:16]
    if duration is not None and not call.duration_seconds:
        call.duration_seconds = duration
    if status in FINAL_STATUSES and call.outcome is None:
        state = CallState.from_dict(call.state)
        outcome = Outcome.TRANSFERRED if state.dialing else Outcome.HUNG_UP
        node = state.node or "?"
        state.ended, state.outcome = True, outcome.value
        call.state, call.outcome, call.ended_node, call.ended_at = (
            state.to_dict(),
            outcome.value,
            node,
            now,
        )
        if outcome is Outcome.HUNG_UP:
            add_event(session, call, CallEventKind.HUNG_UP, node, now)
        add_event(session, call, CallEventKind.ENDED, node, now, value=outcome.value)
    return True
