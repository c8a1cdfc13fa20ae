"""FastAPI dependencies of the Twilio edge."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from outreach.core.context import AppContext


def get_ctx(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


def get_session(request: Request) -> Iterator[Session]:
    """Yields a session the request owns: committed on success, rolled back on error."""
    session = get_ctx(request).sessions()
    try:
        yield session
        session.commit()
    except Exception:
        session.rollback()
        raise
    finally:
        session.close()


CtxDep = Annotated[AppContext, Depends(get_ctx)]
# scope="function": the commit happens before the response is sent. FastAPI's default for a
# dependency with yield ends it after the response, so a client could act on an answer (follow
# a login redirect, reuse a cookie after logout) before its writes are committed, or get a
# success whose commit then fails.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
