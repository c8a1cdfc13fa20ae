"""The flow editor's page helpers: a template with the common context, a redirect back."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from outreach.web.auth.web import csrf_token
from outreach.web.pages import templates


def page(request: Request, name: str, user: Any, status: int = 200, **extra: Any) -> Response:
    context = {"user": user, "manager": True, "csrf": csrf_token(request), "page": "flows"}
    return templates.TemplateResponse(
        request, f"flows/{name}.html", {**context, **extra}, status_code=status
    )


def back(key: str, note: str = "") -> Response:
    return RedirectResponse(f"/dashboard/flows/{key}" + (f"?done={note}" if note else ""), 303)
