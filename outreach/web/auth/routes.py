"""The login and logout pages."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from outreach.core.deps import CtxDep, SessionDep
from outreach.core.logs import event
from outreach.web.auth.service import authenticate, end_session, start_session
from outreach.web.auth.throttle import client_address, throttle_for, username_ref
from outreach.web.auth.web import SESSION_ID, check_csrf, csrf_token
from outreach.web.i18n import gettext, speaking
from outreach.web.pages import page_language, render

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    # Only local dashboard paths: never an open redirect to another site.
    if target and target.startswith("/dashboard") and "//" not in target and "\\" not in target:
        return target
    return "/dashboard"


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str | None = None) -> Response:
    return render(
        request,
        "login.html",
        {"csrf": csrf_token(request), "next": _safe_next(next), "error": None},
    )


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    ctx: CtxDep,
    session: SessionDep,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
    csrf_token_field: Annotated[str, Form(alias="csrf_token")] = "",
    next: Annotated[str, Form(max_length=300)] = "/dashboard",
) -> Response:
    check_csrf(request, csrf_token_field)
    throttle = throttle_for(ctx)
    client = client_address(request, ctx.settings)
    wait = throttle.attempt(client=client, username=username, now=ctx.clock(), session=session)
    if wait is not None:
        # Refused before checking the password, so guessing gains nothing while blocked.
        event(log, "login throttled", user=username_ref(username), retry_after=wait)
        minutes = -(-wait // 60)
        message = "Too many failed logins. Try again in %(minutes)s minute(s)."
        page = _login_error(request, next, message, status_code=429, minutes=minutes)
        page.headers["Retry-After"] = str(wait)
        return page
    user = authenticate(session, username=username, password=password)
    if user is None:
        event(log, "login failed", user=username_ref(username))
        return _login_error(request, next, "Wrong username or password.", status_code=401)
    throttle.succeeded(client=client, username=username, session=session)
    request.session.clear()  # a fresh session (and CSRF token) after login
    request.session[SESSION_ID] = start_session(session, user=user, now=ctx.clock())
    csrf_token(request)
    return RedirectResponse(_safe_next(next), status_code=303)


def _login_error(
    request: Request, next: str, message: str, *, status_code: int, **values: object
) -> Response:
    with speaking(page_language(request)):
        text = gettext(message) % values if values else gettext(message)
    return render(
        request,
        "login.html",
        {"csrf": csrf_token(request), "next": _safe_next(next), "error": text},
        status_code=status_code,
    )


@router.post("/logout")
def logout(
    request: Request,
    session: SessionDep,
    csrf_token_field: Annotated[str, Form(alias="csrf_token")] = "",
) -> Response:
    check_csrf(request, csrf_token_field)
    session_id = request.session.get(SESSION_ID)
    if isinstance(session_id, str):
        end_session(session, session_id=session_id)  # a copy of the cookie is refused too
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
