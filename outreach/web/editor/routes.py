"""Campaign pages for managers: list, create, edit, archive and delete (viewers only look).

Every write checks the session's CSRF token and the manager role, then saves through the
registry (the API's validator, versions and audit log). Live feedback while typing comes from
`/check`, which htmx posts with the form: errors next to fields and segment counts, no save.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from starlette.datastructures import FormData

from campaigns.audit.service import Actor, Interface
from campaigns.registry import documents
from campaigns.registry import service as registry
from campaigns.registry.enums import Medium
from campaigns.registry.models import Campaign
from campaigns.registry.schemas import CampaignSpec
from campaigns.registry.segments import count_segments
from outreach.core.deps import CtxDep, SessionDep, get_ctx
from outreach.web.auth.models import Role, User
from outreach.web.auth.web import PageUser, check_csrf, csrf_token, page_user
from outreach.web.editor.forms import GATEWAYS, LANGS, Feedback
from outreach.web.editor.hours import flow_hours
from outreach.web.editor.service import Checked, SaveRefused, check, save, stored_document
from outreach.web.editor.view import form_values
from outreach.web.pages import render, templates

router = APIRouter(
    prefix="/dashboard/manage", include_in_schema=False, dependencies=[Depends(page_user)]
)
SHOWN = ("az", "ru", "en")
MAX_FIELDS = 400  # form fields a campaign form may have (series x messages x languages)
templates.env.filters["segments"] = count_segments


async def _form(request: Request, user: User) -> FormData:
    """Reads a write's form (bounded) and refuses it without the CSRF token or the role."""
    form = await request.form(max_fields=MAX_FIELDS)
    supplied = form.get("csrf_token")
    check_csrf(request, supplied if isinstance(supplied, str) else None)
    if user.role != Role.MANAGER:
        raise HTTPException(403, "managers only")
    return form


def _campaign(session: Any, code: str) -> Campaign:
    row = registry.get_campaign(session, code)
    if row is None:
        raise HTTPException(404, "unknown campaign")
    return row


def _editor(
    request: Request,
    user: User,
    *,
    doc: dict[str, Any],
    existing: Campaign | None,
    feedback: Feedback | None = None,
    message: str | None = None,
    status_code: int = 200,
) -> Response:
    values = form_values(doc)
    context = {
        "user": user,
        "manager": user.role == Role.MANAGER,
        "csrf": csrf_token(request),
        "page": "manage",
        "v": values,
        "existing": existing,
        "feedback": feedback or Feedback(),
        "message": message,
        "media": [m.value for m in Medium],
        "langs": LANGS,
        "gateways": GATEWAYS,
        "hours": flow_hours(existing, get_ctx(request).settings),
        # Texts are asked for in the declared languages and the interface's three.
        "text_langs": [lang for lang in LANGS if lang in {*values["languages"], *SHOWN}],
    }
    return render(request, "editor/form.html", context, status_code=status_code)


@router.get("/campaigns", response_class=HTMLResponse)
def campaign_list(request: Request, user: PageUser, session: SessionDep) -> Response:
    rows = list(session.scalars(select(Campaign).order_by(Campaign.archived, Campaign.code)))
    context = {
        "user": user,
        "manager": user.role == Role.MANAGER,
        "csrf": csrf_token(request),
        "page": "manage",
        "rows": rows,
    }
    return render(request, "editor/list.html", context)


@router.get("/campaigns/new", response_class=HTMLResponse)
def new_campaign(request: Request, user: PageUser) -> Response:
    if user.role != Role.MANAGER:
        raise HTTPException(403, "managers only")
    return _editor(request, user, doc={"languages": ["az", "ru", "en"]}, existing=None)


@router.get("/campaigns/{code}", response_class=HTMLResponse)
def edit_campaign(code: str, request: Request, user: PageUser, session: SessionDep) -> Response:
    row = _campaign(session, code)
    return _editor(request, user, doc=documents.document(row), existing=row)


@router.post("/check", response_class=HTMLResponse)
async def check_form(
    request: Request, user: PageUser, session: SessionDep, ctx: CtxDep
) -> Response:
    form = await _form(request, user)
    code = form.get("editing")
    existing = registry.get_campaign(session, code) if isinstance(code, str) and code else None
    checked = check(session, ctx.settings, form, existing)
    context = {"user": user, "c": checked, "langs": LANGS}
    return render(request, "editor/_feedback.html", context)


async def _submit(
    request: Request, user: User, session: Any, ctx: Any, existing: Campaign | None
) -> Response:
    form = await _form(request, user)
    checked: Checked = check(session, ctx.settings, form, existing)
    try:
        saved = save(
            session, ctx.settings, checked, existing, Actor(user.username, Interface.BROWSER)
        )
    except SaveRefused as refused:
        return _editor(
            request,
            user,
            doc=checked.doc,
            existing=existing,
            feedback=checked.feedback,
            message=str(refused),
            status_code=refused.status,
        )
    return RedirectResponse(f"/dashboard/manage/campaigns/{saved.code}?saved=1", status_code=303)


@router.post("/campaigns/new")
async def create_campaign(
    request: Request, user: PageUser, session: SessionDep, ctx: CtxDep
) -> Response:
    return await _submit(request, user, session, ctx, None)


@router.post("/campaigns/{code}")
async def update_campaign(
    code: str, request: Request, user: PageUser, session: SessionDep, ctx: CtxDep
) -> Response:
    return await _submit(request, user, session, ctx, _campaign(session, code))


@router.post("/campaigns/{code}/archive")
async def archive_campaign(
    code: str, request: Request, user: PageUser, session: SessionDep, ctx: CtxDep
) -> Response:
    form = await _form(request, user)
    row = _campaign(session, code)
    doc = {**(stored_document(row) or {}), "archived": form.get("archived") == "1"}
    doc["version"] = form.get("version")
    checked = Checked(doc, None, Feedback())
    checked.spec = registry_spec(doc)
    try:
        save(session, ctx.settings, checked, row, Actor(user.username, Interface.BROWSER))
    except SaveRefused as refused:
        return _editor(
            request,
            user,
            doc=documents.document(row),
            existing=row,
            feedback=checked.feedback,
            message=str(refused),
            status_code=refused.status,
        )
    return RedirectResponse("/dashboard/manage/campaigns", status_code=303)


def registry_spec(doc: dict[str, Any]) -> Any:
    """The spec of a stored document with one change (a stored row may break today's rules)."""
    try:
        return CampaignSpec.model_validate(doc)
    except ValueError as exc:
        raise HTTPException(409, f"the stored campaign breaks today's rules: {exc}") from exc


@router.get("/campaigns/{code}/delete", response_class=HTMLResponse)
def confirm_delete(code: str, request: Request, user: PageUser, session: SessionDep) -> Response:
    if user.role != Role.MANAGER:
        raise HTTPException(403, "managers only")
    row = _campaign(session, code)
    context = {"user": user, "csrf": csrf_token(request), "page": "manage", "row": row}
    return render(request, "editor/delete.html", context)


@router.post("/campaigns/{code}/delete")
async def delete_campaign(
    code: str, request: Request, user: PageUser, session: SessionDep
) -> Response:
    await _form(request, user)
    row = _campaign(session, code)
    registry.delete_campaign(session, row, actor=Actor(user.username, Interface.BROWSER))
    return RedirectResponse("/dashboard/manage/campaigns", status_code=303)
