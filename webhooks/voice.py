"""Twilio voice webhooks: call entry, each menu step, and the call status callback."""

from __future__ import annotations

import logging
from collections.abc import Callable

from fastapi import APIRouter, BackgroundTasks, Request, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from campaigns.voice.callbacks import place_callback, record_callback_status, record_missed_call
from campaigns.voice.lines import find_line
from campaigns.voice.models import CallbackStatus, CallDirection
from campaigns.voice.service import Renderer, fail_call, record_status, start_call, step_call
from ivr_flows.loader import FlowError
from outreach.core.context import AppContext
from outreach.core.deps import CtxDep
from outreach.core.metrics import FLOW_LOAD_ERRORS, WEBHOOK_OUTCOMES, count_on_commit
from outreach.core.privacy import normalize_number
from webhooks.fields import ascii_number
from webhooks.security import SignedForm
from webhooks.studio import ask_code, is_studio
from webhooks.transaction import Budget, in_transaction, off_the_loop
from webhooks.voice_twiml import APOLOGY, NOT_IN_SERVICE, reject, renderer, spoken

log = logging.getLogger(__name__)
router = APIRouter(prefix="/twilio/voice", tags=["twilio"])

TWIML = "application/xml"


def _field(form: FormData, name: str, limit: int | None = 64) -> str:
    return str(form.get(name) or "").strip()[:limit]


def _call_sid(form: FormData) -> str:
    # Kept whole: two long ids sharing a prefix are two calls (see ProviderSid).
    return _field(form, "CallSid", None)


def _outbound(form: FormData) -> bool:
    return _field(form, "Direction").startswith("outbound")


def _caller(form: FormData) -> str:
    """The caller's number: From on an inbound call, To on a callback we placed."""
    return _field(form, "To" if _outbound(form) else "From")


def _ends(form: FormData) -> tuple[str, str, CallDirection]:
    """Returns (our number, the caller's number, direction) of a call's form."""
    outbound = _outbound(form)
    dialed = _field(form, "From" if outbound else "To")
    ours = normalize_number(dialed) or dialed
    return ours, _caller(form), CallDirection.CALLBACK if outbound else CallDirection.INBOUND


def _twiml(text: str) -> Response:
    return Response(content=text, media_type=TWIML)


def _renderer(ctx: AppContext) -> Renderer:
    return renderer(ctx.settings.public_url)


def _guarded(ctx: AppContext, call_sid: str, work: Callable[[Session], str | None]) -> str:
    """Runs work in the request's transaction; on failure ends the call cleanly, apologises."""
    apology = spoken(APOLOGY)
    budget = Budget(ctx)
    ids = {"call": call_sid[:64]}

    def failed(exc: Exception) -> str:
        log.exception("voice webhook failed; apologised and hung up", extra=ids)
        WEBHOOK_OUTCOMES.labels(webhook="voice", outcome="apology").inc()
        if isinstance(exc, FlowError):
            FLOW_LOAD_ERRORS.inc()
        if not budget.has_time():
            # The database kept us waiting: answer now; the call's record stays as it was.
            return apology
        in_transaction(
            ctx,
            lambda s: fail_call(s, call_sid=call_sid, now=ctx.clock(), twiml=apology),
            failed=lambda _e: log.exception("could not mark the call as failed", extra=ids),
            budget=budget,
        )
        return apology

    return in_transaction(ctx, work, failed=failed, budget=budget) or apology


@router.post("")
async def call_entry(form: SignedForm, ctx: CtxDep, tasks: BackgroundTasks) -> Response:
    """Answers a new call with its flow's first step (or rejects it for a callback)."""
    call_sid = _call_sid(form)
    ours, caller, direction = _ends(form)
    if not call_sid or not ours or not caller:
        log.warning("voice entry without CallSid/From/To")
        return _twiml(spoken(APOLOGY))
    if is_studio(ctx, ours):
        return _twiml(ask_code(ctx))  # a manager recording a prompt (webhooks/studio.py)
    callback: list[int] = []

    def work(session: Session) -> str | None:
        line = find_line(session, ctx, ours)
        if line is None:
            log.info("call to a number with no voice flow", extra={"call": call_sid[:64]})
            count_on_commit(session, WEBHOOK_OUTCOMES.labels("voice", "not_in_service"))
            return spoken(NOT_IN_SERVICE)
        if line.missed_call_callback and direction is CallDirection.INBOUND:
            callback_id = record_missed_call(
                session, ctx, line=line, call_sid=call_sid, caller=caller, now=ctx.clock()
            )
            if callback_id is not None:
                callback.append(callback_id)
            count_on_commit(session, WEBHOOK_OUTCOMES.labels("voice", "missed_call"))
            return reject("busy")
        return start_call(
            session,
            ctx,
            line=line,
            call_sid=call_sid,
            caller=caller,
            direction=direction,
            now=ctx.clock(),
            render=_renderer(ctx),
        )

    twiml = await off_the_loop(ctx, lambda: _guarded(ctx, call_sid, work))
    for callback_id in callback:
        # Placed after the response, so the caller's phone shows "busy" straight away.
        tasks.add_task(place_callback, ctx, callback_id)
    return _twiml(twiml)


@router.post("/step")
async def call_step(request: Request, form: SignedForm, ctx: CtxDep) -> Response:
    """Takes the keys (or no input, a dial result, a redirect) and answers the next step."""
    call_sid = _call_sid(form)
    if not call_sid:
        return _twiml(spoken(APOLOGY))
    # A bad step number is no step: the call's current answer is repeated.
    seq = ascii_number(request.query_params.get("seq"))
    caller = _caller(form)  # our own number is not needed: the call row has it

    def work(session: Session) -> str | None:
        return step_call(
            session,
            ctx,
            call_sid=call_sid,
            seq=seq,
            digits=_field(form, "Digits"),
            event_name=request.query_params.get("event", ""),
            dial_status=_field(form, "DialCallStatus", 16),
            caller=caller or None,
            now=ctx.clock(),
            render=_renderer(ctx),
        )

    return _twiml(await off_the_loop(ctx, lambda: _guarded(ctx, call_sid, work)))


@router.post("/status")
async def call_status(form: SignedForm, ctx: CtxDep) -> Response:
    """Records Twilio's call status callback (CallStatus, CallDuration) on a call or callback."""
    call_sid, status = _call_sid(form), _field(form, "CallStatus", 16)
    if not call_sid or not status:
        return Response(content="missing CallSid or CallStatus", status_code=400)
    duration = ascii_number(form.get("CallDuration"))  # not ASCII digits: no duration

    def work(session: Session) -> tuple[bool, CallbackStatus | None]:
        known = record_status(
            session, call_sid=call_sid, status=status, duration=duration, now=ctx.clock()
        )
        # A callback nobody answered never reached the flow: its row is all there is to update.
        return known, record_callback_status(session, call_sid=call_sid, status=status)

    def not_recorded(_exc: Exception) -> tuple[bool, CallbackStatus | None]:
        log.exception("call status not recorded", extra={"call": call_sid[:64]})
        return True, None

    known, callback = await off_the_loop(
        ctx, lambda: in_transaction(ctx, work, failed=not_recorded)
    )
    if not known and callback is None:
        log.info("status for an unknown call", extra={"call": call_sid[:64], "status": status})
    return Response(status_code=204)
