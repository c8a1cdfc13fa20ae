"""Per-route request counts and latency, and the request id every request carries."""

from __future__ import annotations

import re
import time
import uuid

from asgi_correlation_id import CorrelationIdMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from outreach.core.metrics import HTTP_LATENCY, HTTP_REQUESTS
from outreach.core.privacy import scrub

REQUEST_ID_HEADER = "X-Request-ID"
# A request id given by the client (nginx's $request_id, a caller's own) is kept when it is
# short, plain and nothing the log masking would change; else the service makes a new one.
_PLAIN_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
UNMATCHED = "(unmatched)"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def valid_request_id(value: str) -> bool:
    """Says if a given X-Request-ID is kept as the request's id."""
    return bool(_PLAIN_ID.fullmatch(value)) and scrub(value) == value


def new_request_id() -> str:
    """A fresh id (uuid4 hex) that the log masking leaves whole, so logs show it as sent."""
    while True:
        value = uuid.uuid4().hex
        if scrub(value) == value:
            return value


def add_request_id(app: ASGIApp) -> ASGIApp:
    """Wraps the app so each request has an id: logged with it and returned as X-Request-ID."""
    return CorrelationIdMiddleware(
        app,
        header_name=REQUEST_ID_HEADER,
        generator=new_request_id,
        validator=valid_request_id,
        transformer=lambda value: value,
    )


class RequestMetrics:
    """Counts each HTTP request by method, route template (never the raw path) and status."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # an exception with no response sent: the server answers 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = getattr(scope.get("route"), "path", None) or UNMATCHED
            method = scope["method"] if scope["method"] in METHODS else "OTHER"
            HTTP_REQUESTS.labels(method=method, route=route, status=str(status)).inc()
            HTTP_LATENCY.labels(method=method, route=route).observe(time.perf_counter() - started)
