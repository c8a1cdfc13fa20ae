"""Who is asking: the session cookie (dashboard) or a bearer token (scripts), and CSRF."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from outreach.core.deps import SessionDep, get_ctx
from outreach.web.auth.models import Role, User
from outreach.web.auth.service import user_for_session, user_for_token

# The signed cookie holds only the login session's random id (and the CSRF token): the
# server-side row decides whether it is still a session (see service.start_session).
SESSION_ID = "sid"
SESSION_CSRF = "csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class LoginRequired(Exception):
    """Raised by dashboard dependencies; the app turns it into a redirect to /login."""


def csrf_token(request: Request) -> str:
    """Returns the session's CSRF token, creating it on first use."""
    token = request.session.get(SESSION_CSRF)
    if not token:
        token = request.session[SESSION_CSRF] = secrets.token_urlsafe(32)
    return str(token)


def check_csrf(request: Request, supplied: str | None) -> None:
    """Refuses a state-changing cookie request whose CSRF token does not match."""
    expected = request.session.get(SESSION_CSRF)
    if not expected or not supplied or not hmac.compare_digest(str(expected), supplied):
        raise HTTPException(status_code=403, detail="missing or wrong CSRF token")


def _session_user(request: Request, session: Session) -> User | None:
    session_id = request.session.get(SESSION_ID)
    if not isinstance(session_id, str):
        return None
    return user_for_session(session, session_id=session_id, now=get_ctx(request).clock())


def api_user(request: Request, session: SessionDep) -> User:
    """The API caller: a bearer token, or the dashboard session (writes then need CSRF)."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        user = user_for_token(session, token=header[7:].strip(), now=get_ctx(request).clock())
        if user is None:
            raise HTTPException(401, "invalid token", headers={"WWW-Authenticate": "Bearer"})
        return user
    user = _session_user(request, session)
    if user is None:
        raise HTTPException(401, "authentication required", headers={"WWW-Authenticate": "Bearer"})
    if request.method not in SAFE_METHODS:
        check_csrf(request, request.headers.get("x-csrf-token"))
    return user


def api_manager(user: Annotated[User, Depends(api_user)]) -> User:
    if user.role != Role.MANAGER:
        raise HTTPException(403, "managers only")
    return user


def page_user(request: Request, session: SessionDep) -> User:
    """The dashboard user, or a redirect to the login page."""
    user = _session_user(request, session)
    if user is None:
        raise LoginRequired()
    return user


ApiUser = Annotated[User, Depends(api_user)]
ApiManager = Annotated[User, Depends(api_manager)]
PageUser = Annotated[User, Depends(page_user)]


def exact_for(user: User) -> bool:
    """Managers see exact numbers; viewers see small cells suppressed."""
    return user.role == Role.MANAGER
