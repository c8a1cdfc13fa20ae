"""The flow editor's version actions: publish, restore, diff, attach campaigns, recordings."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy import select

from campaigns.flows import service
from campaigns.flows.audio import AudioRefused, attach_recording
from campaigns.flows.imports import attach
from campaigns.registry.models import Campaign
from outreach.core.deps import CtxDep, SessionDep
from outreach.web.flows import views
from outreach.web.flows.access import FlowManager, flow_manager
from outreach.web.flows.render import back, page

router = APIRouter(
    prefix="/dashboard/flows", include_in_schema=False, dependencies=[Depends(flow_manager)]
)


@router.post("/{key}/publish")
def publish(
    key: str, user: FlowManager, session: SessionDep, number: Annotated[int, Form(ge=1)]
) -> Response:
    try:
        service.publish(session, key=key, number=number)
    except service.UnknownVersion as exc:
        raise HTTPException(404, str(exc)) from exc
    return back(key, f"published-{number}")


@router.post("/{key}/restore")
def restore(
    key: str, user: FlowManager, session: SessionDep, number: Annotated[int, Form(ge=1)]
) -> Response:
    try:
        row = service.restore(session, key=key, number=number, user=user.username)
    except service.UnknownVersion as exc:
        raise HTTPException(404, str(exc)) from exc
    return back(key, f"restored-{number}-as-{row.number}")


@router.get("/{key}/diff", response_class=HTMLResponse)
def diff(
    key: str, request: Request, user: FlowManager, session: SessionDep, a: int, b: int
) -> Response:
    try:
        old, new = service.version(session, key, a), service.version(session, key, b)
    except service.UnknownVersion as exc:
        raise HTTPException(404, str(exc)) from exc
    return page(request, "diff", user, key=key, a=old, b=new, lines=views.diff(old, new))


@router.post("/{key}/attach")
def attach_campaign(
    key: str, user: FlowManager, session: SessionDep,
    campaign: Annotated[str, Form(max_length=64)], detach: Annotated[str, Form()] = "",
) -> Response:  # fmt: skip
    found = session.scalar(select(Campaign).where(Campaign.code == campaign))
    if found is None:
        raise HTTPException(404, "unknown campaign")
    try:
        if service.live_version(session, key) is None and not detach:
            raise HTTPException(409, "publish a version before attaching campaigns")
        attach(session, None if detach else key, campaign=found)
    except service.UnknownVersion as exc:
        raise HTTPException(404, str(exc)) from exc
    return back(key, "detached" if detach else "attached")


@router.post("/{key}/audio")
def upload(
    key: str, user: FlowManager, session: SessionDep, ctx: CtxDep,
    slot: Annotated[str, Form(max_length=200)], file: Annotated[UploadFile, File()],
) -> Response:  # fmt: skip
    data = file.file.read(ctx.settings.audio_max_bytes + 1)
    try:
        stored = attach_recording(
            session, key=key, slot=slot, data=data, user=user.username, settings=ctx.settings
        )
    except service.UnknownVersion as exc:
        raise HTTPException(404, str(exc)) from exc
    except AudioRefused as exc:
        return JSONResponse({"detail": str(exc)}, 422)
    return JSONResponse(
        {"version": stored.version, "token": stored.token, "duration_ms": stored.duration_ms,
         "url": service.media_url("", stored.token)}
    )  # fmt: skip
