"""ASGI test helpers: an app built over a context with other settings, and a body-read counter."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from outreach.app import create_app
from outreach.core.context import AppContext


def app_with(ctx: AppContext, **settings: Any) -> Any:
    """The real app over ctx's database, with some settings changed."""
    changed = AppContext(
        settings=ctx.settings.model_copy(update=settings), engine=ctx.engine, sessions=ctx.sessions
    )
    return create_app(ctx=changed, migrate=False, start_background=False)


class BodyReads:
    """Wraps an ASGI app and counts the request body bytes the app received."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.messages = 0
        self.bytes = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def counted() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                self.messages += 1
                self.bytes += len(message.get("body", b""))
            return message

        await self.app(scope, counted if scope["type"] == "http" else receive, send)


async def post_stream(
    app: ASGIApp, path: str, chunks: Iterator[bytes], headers: dict[str, str]
) -> tuple[int, int]:
    """POSTs a body streamed chunk by chunk (no Content-Length unless given) straight to the app.

    Returns (response status, number of chunks the app pulled).
    """
    pulled = 0
    statuses: list[int] = []

    async def receive() -> Message:
        nonlocal pulled
        chunk = next(chunks, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        pulled += 1
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    path, _, query = path.partition("?")
    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "https",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 443),
    }
    await app(scope, receive, send)
    [status] = statuses
    return status, pulled
