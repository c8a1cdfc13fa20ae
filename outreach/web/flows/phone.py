"""Recording by phone on the recordings page: a one-time code, then approve or reject."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from campaigns.flows import phone, service
from campaigns.flows.audio import AudioRefused, media_file
from outreach.core.deps import CtxDep, SessionDep
from outreach.web.flows.access import FlowManager, flow_manager
from outreach.web.flows.render import back, page

router = APIRouter(
    prefix="/dashboard/flows", include_in_schema=False, dependencies=[Depends(flow_manager)]
)


@router.post("/{key}/phone-code", response_class=HTMLResponse)
def phone_code(
    key: str, request: Request, user: FlowManager, session: SessionDep, ctx: CtxDep,
    slot: Annotated[str, Form(max_length=200)],
) -> Response:  # fmt: skip
    """Shows a fresh one-time code for recording the slot by calling the studio number."""
    if not ctx.settings.studio_number:
        raise HTTPException(409, "no studio number is configured (OUTREACH_STUDIO_NUMBER)")
    try:
        issued = phone.issue_code(
            session, key=key, slot=slot, user=user.username,
            hash_key=ctx.settings.hash_key, now=ctx.clock(),
        )  # fmt: skip
    except service.UnknownVersion as exc:
        raise HTTPException(404, str(exc)) from exc
    except AudioRefused as exc:
        raise HTTPException(422, str(exc)) from exc
    answer = page(
        request, "phone_code", user, key=key, slot=slot, code=issued.code,
        expires_at=issued.expires_at, number=ctx.settings.studio_number,
        minutes=int(phone.CODE_LIFETIME.total_seconds() // 60),
    )  # fmt: skip
    answer.headers["Cache-Control"] = "no-store"
    return answer


@router.post("/{key}/pending/{pending_id}/{decision}")
def decide(
    key: str, pending_id: int, decision: str, user: FlowManager, session: SessionDep,
    ctx: CtxDep,
) -> Response:  # fmt: skip
    """Approves (a new version plays it) or rejects a recording made by phone, once."""
    if decision not in ("approve", "reject"):
        raise HTTPException(404, "unknown decision")
    try:
        flow = service.get_flow(session, key)
    except service.UnknownVersion as exc:
        raise HTTPException(404, str(exc)) from exc
    row = phone.pending_row(session, flow, pending_id)
    if row is None:
        raise HTTPException(404, "no such recording")
    approve = decision == "approve"
    path = media_file(ctx.settings, row.token)
    wav = path.read_bytes() if approve and path.is_file() else None
    if approve and wav is None:
        raise HTTPException(409, "the recording's file is missing")
    try:
        phone.decide(
            session, flow=flow, pending_id=pending_id, approve=approve, user=user.username,
            wav=wav,
        )  # fmt: skip
    except phone.AlreadyDecided as exc:
        raise HTTPException(409, str(exc)) from exc
    except AudioRefused as exc:
        raise HTTPException(422, str(exc)) from exc
    if not approve:
        path.unlink(missing_ok=True)  # nothing plays a rejected recording
    return back(key, "approved" if approve else "rejected")
