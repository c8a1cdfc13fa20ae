"""User pages: managers manage users and tokens; everyone picks their interface language.

Every write checks the CSRF token and (but for one's own language) the manager role, then goes
through outreach.web.auth.admin, which records it in the audit log. Disabling a user or
resetting a password ends their sessions in every process.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError

from campaigns.audit.service import Actor, Interface
from outreach.core.deps import SessionDep
from outreach.web.auth import admin
from outreach.web.auth.models import Role, User
from outreach.web.auth.service import AuthError
from outreach.web.auth.web import PageUser, check_csrf, csrf_token, page_user
from outreach.web.i18n import LANGUAGES
from outreach.web.pages import render

router = APIRouter(prefix="/dashboard", include_in_schema=False, dependencies=[Depends(page_user)])
Csrf = Annotated[str, Form(alias="csrf_token", max_length=100)]


def _manager(request: Request, user: User, supplied: str) -> Actor:
    check_csrf(request, supplied)
    if user.role != Role.MANAGER:
        raise HTTPException(403, "managers only")
    return Actor(user.username, Interface.BROWSER)


def _target(session: Any, user_id: int) -> User:
    target = session.get(User, user_id)
    if target is None:
        raise HTTPException(404, "unknown user")
    return target


def _users_page(
    request: Request,
    user: User,
    session: Any,
    *,
    message: str | None = None,
    error: str | None = None,
    token: str | None = None,
    status_code: int = 200,
    typed: dict[str, str] | None = None,
) -> Response:
    if user.role != Role.MANAGER:
        raise HTTPException(403, "managers only")
    context = {
        "user": user,
        "csrf": csrf_token(request),
        "page": "users",
        "users": list(session.scalars(select(User).order_by(User.username))),
        "roles": [r.value for r in Role],
        "languages": LANGUAGES,
        "message": message,
        "error": error,
        "token": token,
        "typed": typed or {},
    }
    return render(request, "users/list.html", context, status_code=status_code)


@router.get("/users", response_class=HTMLResponse)
def users_page(request: Request, user: PageUser, session: SessionDep) -> Response:
    return _users_page(request, user, session)


@router.post("/users", response_class=HTMLResponse)
def create_user(
    request: Request,
    user: PageUser,
    session: SessionDep,
    csrf: Csrf,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
    role: Annotated[Role, Form()] = Role.VIEWER,
    language: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    actor = _manager(request, user, csrf)
    try:
        with session.begin_nested():
            admin.create(
                session, actor=actor, username=username, password=password, role=role,
                language=language or None,
            )  # fmt: skip
    except (AuthError, IntegrityError, OperationalError) as exc:
        # The same username created by another request at the same moment (or still being).
        reason = str(exc) if isinstance(exc, AuthError) else f"user {username!r} exists"
        typed = {"username": username, "role": str(role), "language": language}
        return _users_page(request, user, session, error=reason, status_code=422, typed=typed)
    return _users_page(request, user, session, message=f"created {username}")


@router.post("/users/{user_id}/active", response_class=HTMLResponse)
def set_active(
    user_id: int,
    request: Request,
    user: PageUser,
    session: SessionDep,
    csrf: Csrf,
    active: Annotated[bool, Form()],
) -> Response:
    actor = _manager(request, user, csrf)
    target = _target(session, user_id)
    if target.id == user.id and not active:
        return _users_page(
            request, user, session, error="you cannot disable yourself", status_code=422
        )
    admin.set_active(session, actor=actor, user=target, active=active)
    state = "enabled" if active else "disabled; their sessions are ended"
    return _users_page(request, user, session, message=f"{target.username} {state}")


@router.post("/users/{user_id}/password", response_class=HTMLResponse)
def reset_password(
    user_id: int,
    request: Request,
    user: PageUser,
    session: SessionDep,
    csrf: Csrf,
    password: Annotated[str, Form(max_length=256)],
) -> Response:
    actor = _manager(request, user, csrf)
    target = _target(session, user_id)
    try:
        with session.begin_nested():
            admin.reset_password(session, actor=actor, user=target, password=password)
    except AuthError as exc:
        return _users_page(request, user, session, error=str(exc), status_code=422)
    message = f"password of {target.username} reset; their sessions are ended"
    return _users_page(request, user, session, message=message)


@router.post("/users/{user_id}/tokens", response_class=HTMLResponse)
def issue_token(
    user_id: int,
    request: Request,
    user: PageUser,
    session: SessionDep,
    csrf: Csrf,
    name: Annotated[str, Form(max_length=100)] = "script",
) -> Response:
    actor = _manager(request, user, csrf)
    target = _target(session, user_id)
    token = admin.issue_token(session, actor=actor, user=target, name=name.strip() or "script")
    return _users_page(request, user, session, token=token, message=f"token for {target.username}")


@router.post("/users/{user_id}/tokens/{token_id}/revoke", response_class=HTMLResponse)
def revoke_token(
    user_id: int, token_id: int, request: Request, user: PageUser, session: SessionDep, csrf: Csrf
) -> Response:
    actor = _manager(request, user, csrf)
    target = _target(session, user_id)
    if not admin.revoke_token(session, actor=actor, user=target, token_id=token_id):
        raise HTTPException(404, "unknown token")
    return _users_page(request, user, session, message=f"token of {target.username} revoked")


@router.get("/me", response_class=HTMLResponse)
def me_page(request: Request, user: PageUser) -> Response:
    context = {"user": user, "csrf": csrf_token(request), "page": "me", "languages": LANGUAGES}
    return render(request, "users/me.html", context)


@router.post("/me/language")
def choose_language(
    request: Request,
    user: PageUser,
    session: SessionDep,
    csrf: Csrf,
    language: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    check_csrf(request, csrf)
    actor = Actor(user.username, Interface.BROWSER)
    admin.set_language(session, actor=actor, user=user, language=language or None)
    return RedirectResponse("/dashboard/me", status_code=303)
