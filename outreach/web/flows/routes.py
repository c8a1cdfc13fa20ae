"""The flow editor pages: list, create/copy, edit and save, versions, publish, restore, diff."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy import select

from campaigns.flows import phone, service
from campaigns.flows.imports import attached_campaigns, import_file
from campaigns.flows.models import StoredFlow
from campaigns.registry.flows import configured_root
from campaigns.registry.models import Campaign, CampaignNumber
from ivr_flows.loader import MAX_FLOW_BYTES, FlowPathError
from outreach.core.deps import CtxDep, SessionDep
from outreach.web.flows import views
from outreach.web.flows.access import FlowManager, flow_manager
from outreach.web.flows.render import back, page
from outreach.web.security_headers import CONTENT_SECURITY_POLICY

router = APIRouter(
    prefix="/dashboard/flows", include_in_schema=False, dependencies=[Depends(flow_manager)]
)
Source = Annotated[str, Form(max_length=MAX_FLOW_BYTES)]


@router.get("", response_class=HTMLResponse)
def index(request: Request, user: FlowManager, session: SessionDep) -> Response:
    flows = list(session.scalars(select(StoredFlow).order_by(StoredFlow.key)))
    rows = [
        {
            "flow": f,
            "versions": service.count_versions(session, f),
            "live": service.live_version(session, f.key),
            "campaigns": attached_campaigns(session, f.key),
        }
        for f in flows
    ]
    return page(request, "index", user, rows=rows)


@router.post("/import")
def import_files(user: FlowManager, session: SessionDep, ctx: CtxDep) -> Response:
    """Imports every flow file of the flows folder (and the demo's) into stored flows."""
    root = configured_root(ctx.settings)
    if root is None or not root.is_dir():
        raise HTTPException(422, "no flows folder is configured (OUTREACH_FLOWS_DIR)")
    folder = root / "flows" if (root / "flows").is_dir() else root
    for path in sorted(Path(folder).glob("*.y*ml")):
        try:
            import_file(session, path, user=user.username, settings=ctx.settings)
        except (service.FlowRefused, FlowPathError):
            continue
    return RedirectResponse("/dashboard/flows", 303)


@router.post("/new")
def create(
    request: Request,
    user: FlowManager,
    session: SessionDep,
    key: Annotated[str, Form(max_length=64)],
    copy_of: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Creates a flow: a copy of another's newest version under a new id, or a starter menu."""
    if session.scalar(select(StoredFlow).where(StoredFlow.key == key)) is not None:
        return page(request, "index", user, 409, rows=[], error=f"a flow {key!r} exists")
    if copy_of:
        base = service.latest(session, service.get_flow(session, copy_of))
        source = base.source if base is not None else ""
        source = _renamed(source, copy_of, key)
        audio = dict(base.audio) if base is not None else {}
    else:
        source, audio = STARTER.replace("__KEY__", key), {}
    try:
        service.save_version(
            session, source=source, user=user.username, audio=audio, note="created"
        )
    except service.FlowRefused as exc:
        return page(request, "index", user, 422, rows=[], error=str(exc))
    return back(key)


def _renamed(source: str, old: str, new: str) -> str:
    lines = source.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if line.startswith("id:"):
            lines[i] = f"id: {new}\n"
            break
    return "".join(lines)


STARTER = """id: __KEY__
title: New voice menu
languages: [az, ru, en]
default_language: az
voices:
  az: {voice: Google.tr-TR-Standard-A, language: tr-TR}
  ru: {voice: Polly.Tatyana, language: ru-RU}
  en: {voice: Polly.Joanna, language: en-US}
start: welcome
nodes:
  welcome:
    kind: message
    prompt:
      az: {text: "Salam!"}
      ru: {text: "Здравствуйте!"}
      en: {text: "Hello!"}
    next: goodbye
  goodbye:
    kind: hangup
    prompt:
      az: {text: "Sağ olun!"}
      ru: {text: "До свидания!"}
      en: {text: "Goodbye!"}
"""


@router.get("/{key}", response_class=HTMLResponse)
def edit(
    key: str, request: Request, user: FlowManager, session: SessionDep, ctx: CtxDep,
    version: int | None = None,
) -> Response:  # fmt: skip
    try:
        stored = service.get_flow(session, key)
        rows = service.versions(session, key)
        shown = service.version(session, key, version) if version else rows[0]
    except (service.UnknownVersion, IndexError) as exc:
        raise HTTPException(404, "unknown flow or version") from exc
    codes = list(session.scalars(select(Campaign.code).order_by(Campaign.code)))
    numbers = list(
        session.scalars(select(CampaignNumber.number).distinct().order_by(CampaignNumber.number))
    )
    nonce = secrets.token_urlsafe(16)
    answer = page(
        request,
        "edit",
        user,
        flow=stored,
        versions=rows,
        shown=shown,
        check=views.check(shown.source, shown.audio),
        audio=views.recordings(shown, ctx.settings.public_url),
        campaigns=codes,
        attached=attached_campaigns(session, key),
        max_mb=ctx.settings.audio_max_bytes / (1024 * 1024),
        max_seconds=ctx.settings.audio_max_seconds,
        done=request.query_params.get("done", ""),
        style_nonce=nonce,
        numbers=numbers,
        pending=phone.pending(session, stored),
        studio=bool(ctx.settings.studio_number),
    )
    # CodeMirror writes its styles into a <style> element: this page allows that one by nonce.
    answer.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.replace(
        "style-src 'self'", f"style-src 'self' 'nonce-{nonce}'"
    )
    return answer


@router.post("/{key}/check")
def live_check(
    key: str, user: FlowManager, session: SessionDep, source: Annotated[str, Body(embed=True)]
) -> Any:
    if len(source.encode()) > MAX_FLOW_BYTES:
        return JSONResponse({"detail": "the flow is larger than 256 KiB"}, 413)
    try:
        newest = service.latest(session, service.get_flow(session, key))
    except service.UnknownVersion as exc:
        raise HTTPException(404, "unknown flow") from exc
    # A save carries the newest version's recordings over: mark what it would still lack.
    return views.check(source, newest.audio if newest is not None else {})


@router.post("/{key}/save")
def save(
    key: str, request: Request, user: FlowManager, session: SessionDep, ctx: CtxDep,
    source: Source, note: Annotated[str, Form(max_length=200)] = "",
) -> Response:  # fmt: skip
    try:
        service.get_flow(session, key)
        row = service.save_version(session, source=source, user=user.username, key=key, note=note)
    except service.UnknownVersion as exc:
        raise HTTPException(404, "unknown flow") from exc
    except service.FlowRefused as exc:
        issues = [
            {"line": i.line, "location": i.location, "message": i.message} for i in exc.issues
        ]
        return JSONResponse({"detail": "the flow has errors", "issues": issues}, 422)
    return JSONResponse(
        {"version": row.number, "url": f"/dashboard/flows/{key}?version={row.number}"}
    )
