"""Refuses unauthenticated writes to the API and the dashboard before their body is read.

FastAPI reads and parses a request's body before it resolves the route's dependencies, so the
`api_user` / `page_user` checks alone would let an anonymous caller make the service read and
parse a body first. This pure ASGI middleware runs the same checks on the request's headers and
session only, then lets the request through or answers for it.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from outreach.core.deps import get_ctx
from outreach.web.auth.models import User
from outreach.web.auth.web import SAFE_METHODS, LoginRequired, api_user, page_user

Check = Callable[[Request, Session], User]


def _check_for(path: str) -> Check | None:
    if path.startswith("/api/"):
        return api_user
    if path == "/dashboard" or path.startswith("/dashboard/"):
        return page_user
    return None


def _refusal(request: Request, check: Check) -> Response | None:
    """Returns the answer for a caller the check refuses, or None to let the request in."""
    with get_ctx(request).sessions() as session:
        try:
            check(request, session)
        except HTTPException as exc:
            return JSONResponse({"detail": exc.detail}, exc.status_code, headers=exc.headers)
        except LoginRequired:
            # As for any anonymous dashboard request; the form is not worth coming back to.
            return RedirectResponse("/login", status_code=303)
        finally:
            session.rollback()  # the check only reads (a token's last use is saved later)
    return None


class WriteGuard:
    """Answers 401/403 (API) or the login redirect (dashboard) for unauthenticated writes.

    Must run inside the session middleware: it reads the session the way the routes do.
    """

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        check = _check_for(scope["path"]) if scope["type"] == "http" else None
        if check is not None and scope["method"] not in SAFE_METHODS:
            # No receive: the body stays unread while the caller is checked.
            answer = await run_in_threadpool(_refusal, Request(scope), check)
            if answer is not None:
                await answer(scope, receive, send)
                return
        await self._app(scope, receive, send)
