"""FastAPI dependencies shared by every router: the app's context and the request's session."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from outreach.core.context import AppContext
from outreach.core.db import session_scope


def get_ctx(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


async def _ctx(request: Request) -> AppContext:
    # async: FastAPI runs a sync dependency in its thread pool, a hop per request for a lookup.
    return get_ctx(request)


def get_session(request: Request) -> Iterator[Session]:
    """Yields the session the request owns: committed on success, rolled back on error."""
    with session_scope(get_ctx(request).sessions) as session:
        yield session


CtxDep = Annotated[AppContext, Depends(_ctx)]
# scope="function": the commit happens before the response is sent. FastAPI's default for a
# dependency with yield ends it after the response, so a client could act on an answer (follow
# a login redirect, reuse a cookie after logout) before its writes are committed, or get a
# success whose commit then fails.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
