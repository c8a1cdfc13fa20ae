"""The login and logout pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from outreach.auth.service import authenticate
from outreach.auth.web import SESSION_USER, check_csrf, csrf_token
from outreach.dashboard.templates import templates
from webhooks.deps import SessionDep

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    # Only local dashboard paths: never an open redirect to another site.
    if target and target.startswith("/dashboard") and "//" not in target and "\\" not in target:
        return target
    return "/dashboard"


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str | None = None) -> Response:
    return templates.TemplateResponse(
        request,
        "login.html",
        {"csrf": csrf_token(request), "next": _safe_next(next), "error": None},
    )


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
    csrf_token_field: Annotated[str, Form(alias="csrf_token")] = "",
    next: Annotated[str, Form(max_length=300)] = "/dashboard",
) -> Response:
    check_csrf(request, csrf_token_field)
    user = authenticate(session, username=username, password=password)
    if user is None:
        return templates.TemplateResponse(
            request,
            "login.html",
            {
                "csrf": csrf_token(request),
                "next": _safe_next(next),
                "error": "Wrong username or password.",
            },
            status_code=401,
        )
    request.session.clear()  # a fresh session (and CSRF token) after login
    request.session[SESSION_USER] = user.id
    csrf_token(request)
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout")
def logout(
    request: Request, csrf_token_field: Annotated[str, Form(alias="csrf_token")] = ""
) -> Response:
    check_csrf(request, csrf_token_field)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
