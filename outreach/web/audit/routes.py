"""The audit log page (managers): every change, newest first, filtered by who, where and what."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response

from campaigns.audit.service import AuditFilter, Interface, TargetKind, entries
from outreach.core.deps import SessionDep
from outreach.web.auth.models import Role
from outreach.web.auth.web import PageUser, csrf_token, page_user
from outreach.web.pages import render

router = APIRouter(prefix="/dashboard", include_in_schema=False, dependencies=[Depends(page_user)])
Text = Annotated[str | None, Query(max_length=64)]


@router.get("/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    user: PageUser,
    session: SessionDep,
    actor: Text = None,
    interface: Text = None,
    kind: Text = None,
    target: Text = None,
    start: Annotated[str | None, Query(alias="from", max_length=10)] = None,
    end: Annotated[str | None, Query(alias="to", max_length=10)] = None,
) -> Response:
    if user.role != Role.MANAGER:
        raise HTTPException(403, "managers only")
    # An empty field of the filter form means "any".
    flt = AuditFilter(
        actor=actor or None,
        interface=Interface(interface) if interface in set(Interface) else None,
        kind=TargetKind(kind) if kind in set(TargetKind) else None,
        target=target or None,
        start=_day(start),
        end=_day(end),
    )
    context = {
        "user": user,
        "csrf": csrf_token(request),
        "page": "audit",
        "flt": flt,
        "rows": entries(session, flt),
        "interfaces": [i.value for i in Interface],
        "kinds": [k.value for k in TargetKind],
    }
    return render(request, "audit/list.html", context)


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError as exc:
        raise HTTPException(422, f"not a date: {text!r} (use YYYY-MM-DD)") from exc
