"""The simulator's phone pane: a call on one flow version through the voice service and the
same TwiML renderer as the Twilio webhooks (`outreach call` drives those), marked simulated.

The browser gets the TwiML turned into steps to show: text to read for <Say>, the audio URL for
<Play>, whether keys are awaited, and whether the call has ended.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree

from fastapi import APIRouter, Body, Depends, HTTPException
from sqlalchemy.orm import Session

from campaigns.flows import service
from campaigns.voice.lines import Line
from campaigns.voice.models import CallDirection
from campaigns.voice.service import start_call, step_call
from outreach.core.context import AppContext
from outreach.core.deps import CtxDep, SessionDep
from outreach.web.flows.access import FlowManager, flow_manager
from webhooks.voice_twiml import renderer

router = APIRouter(
    prefix="/dashboard/flows", include_in_schema=False, dependencies=[Depends(flow_manager)]
)

SIM_NUMBER = "simulator"
SID_PREFIX = "SIM"


def steps(twiml: str) -> dict[str, Any]:
    """Turns a TwiML answer into what the pane shows and what it may send next."""
    root = ElementTree.fromstring(twiml)
    shown: list[dict[str, str]] = []
    out: dict[str, Any] = {"prompts": shown, "gather": None, "redirect": False, "ended": False}
    for verb in root:
        if verb.tag == "Gather":
            for inner in verb:
                shown.append(_speech(inner))
            out["gather"] = {
                "seq": _seq(verb.get("action", "")),
                "timeout": verb.get("timeout"),
                "num_digits": verb.get("numDigits"),
            }
        elif verb.tag in ("Say", "Play"):
            shown.append(_speech(verb))
        elif verb.tag == "Redirect":
            out["redirect"] = True
            out["seq"] = _seq(verb.text or "")
        elif verb.tag == "Dial":
            shown.append({"kind": "dial", "text": "(transfer to a consultant)"})
            out["dial"] = _seq(verb.get("action", ""))
        elif verb.tag in ("Hangup", "Reject"):
            out["ended"] = True
    return out


def _speech(verb: ElementTree.Element) -> dict[str, str]:
    if verb.tag == "Play":
        return {"kind": "play", "url": (verb.text or "").strip()}
    return {"kind": "say", "text": (verb.text or "").strip(), "language": verb.get("language", "")}


def _seq(url: str) -> int | None:
    values = parse_qs(urlsplit(url).query).get("seq")
    return int(values[0]) if values and values[0].isdigit() else None


def _line(session: Session, ctx: AppContext, key: str, number: int) -> Line:
    row = service.version(session, key, number)
    return Line(
        number=SIM_NUMBER,
        flow_file=None,
        timezone=ctx.settings.default_timezone,
        flow_version_id=row.id,
        simulated=True,
    )


@router.post("/{key}/simulate")
def simulate_start(
    key: str,
    user: FlowManager,
    session: SessionDep,
    ctx: CtxDep,
    version: Annotated[int, Body(embed=True, ge=1)],
) -> dict[str, Any]:
    try:
        line = _line(session, ctx, key, version)
    except service.UnknownVersion as exc:
        raise HTTPException(404, str(exc)) from exc
    sid = SID_PREFIX + secrets.token_hex(16)
    twiml = start_call(
        session,
        ctx,
        line=line,
        call_sid=sid,
        caller=f"simulator:{sid}",
        direction=CallDirection.INBOUND,
        now=ctx.clock(),
        render=renderer(ctx.settings.public_url),
    )
    return {"sid": sid, **steps(twiml or "<Response/>")}


@router.post("/{key}/simulate/step")
def simulate_step(
    key: str,
    user: FlowManager,
    session: SessionDep,
    ctx: CtxDep,
    sid: Annotated[str, Body(max_length=64, pattern=r"^SIM[0-9a-f]{32}$")],
    seq: Annotated[int, Body(ge=1)],
    digits: Annotated[str, Body(max_length=32)] = "",
    event: Annotated[str, Body(pattern=r"^(keys|continue|dial)$")] = "keys",
) -> dict[str, Any]:
    twiml = step_call(
        session,
        ctx,
        call_sid=sid,
        seq=seq,
        digits=digits,
        event_name="" if event == "keys" else event,
        dial_status="completed",
        caller=None,
        now=ctx.clock(),
        render=renderer(ctx.settings.public_url),
    )
    if twiml is None:
        raise HTTPException(404, "no such simulated call")
    return steps(twiml)
