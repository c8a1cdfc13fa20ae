"""Errors on dashboard pages are pages (in the user's language), never raw JSON."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import Response

from outreach.core.db import session_scope
from outreach.web.auth.service import user_for_session
from outreach.web.auth.web import SESSION_ID, csrf_token
from outreach.web.pages import render

TITLES = {
    403: "Not allowed",
    404: "Not found",
    409: "Changed meanwhile",
    413: "Too large",
    422: "Please correct the form",
}


def is_page(request: Request) -> bool:
    """Whether the request is for a dashboard page (the API and webhooks keep JSON and TwiML)."""
    path = request.url.path
    return path == "/dashboard" or path.startswith("/dashboard/")


def _user(request: Request) -> object | None:
    session_id = request.session.get(SESSION_ID) if "session" in request.scope else None
    if not isinstance(session_id, str):
        return None
    ctx = request.app.state.ctx
    with session_scope(ctx.sessions) as session:
        user = user_for_session(session, session_id=session_id, now=ctx.clock())
        if user is not None:
            session.expunge(user)
        return user


def _back(request: Request) -> str:
    """The dashboard page the user came from (never another site)."""
    referer = urlsplit(request.headers.get("referer", ""))
    same_site = referer.netloc in ("", request.url.netloc)
    if same_site and referer.path.startswith("/dashboard") and "//" not in referer.path:
        return referer.path + (f"?{referer.query}" if referer.query else "")
    return "/dashboard"


def error_page(request: Request, status: int, lines: list[str]) -> Response:
    """An error page that says what went wrong and leads back to the form."""
    context = {
        "user": _user(request),
        "csrf": csrf_token(request) if "session" in request.scope else "",
        "status": status,
        "title": TITLES.get(status, "Something went wrong"),
        "lines": lines,
        "page": "error",
        "back": _back(request),
    }
    return render(request, "error.html", context, status_code=status)
