"""Who may use the flow editor: managers, with CSRF on every write (forms and fetches)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from outreach.web.auth.models import Role, User
from outreach.web.auth.web import SAFE_METHODS, PageUser, check_csrf


async def flow_manager(request: Request, user: PageUser) -> User:
    """The signed-in manager; a viewer gets 403, a write without the session's CSRF token 403."""
    if user.role != Role.MANAGER:
        raise HTTPException(403, "managers only")
    if request.method not in SAFE_METHODS:
        supplied = request.headers.get("x-csrf-token")
        if supplied is None:
            form = await request.form()
            value = form.get("csrf_token")
            supplied = value if isinstance(value, str) else None
        check_csrf(request, supplied)
    return user


FlowManager = Annotated[User, Depends(flow_manager)]
