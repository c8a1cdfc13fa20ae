"""Request body limits per route class, enforced before a body is read (pure ASGI).

The byte counting is Starlette's `RequestBodyLimitMiddleware`: a Content-Length over the limit
is refused before a byte of the body is received, and a body without one (chunked) is refused
as soon as the bytes streamed in pass the limit. Either way the answer is 413. This module only
picks the limit of the route class a path belongs to.
"""

from __future__ import annotations

from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from outreach.core.settings import Settings

FLOW_FORM_ROOM = 512 * 1024


def route_limits(settings: Settings) -> list[tuple[str, int]]:
    """Returns (path prefix, byte limit) per route class; other paths get body_limit_web."""
    # The flow editor takes flow sources (256 KiB at most) and recordings (audio_max_bytes):
    # its class allows a recording plus room for the form, so the size check can answer why.
    flows = settings.audio_max_bytes + FLOW_FORM_ROOM
    return [
        ("/twilio/", settings.body_limit_twilio),
        ("/channels/", settings.body_limit_twilio),  # the local gateways' webhooks
        ("/api/", settings.body_limit_api),
        ("/dashboard/flows/", flows),
    ]


class BodyLimits:
    """Caps every HTTP request body at the limit of its route class (first matching prefix).

    Route classes: /twilio/* (body_limit_twilio), /api/* (body_limit_api), the flow editor
    /dashboard/flows/* (OUTREACH_AUDIO_MAX_BYTES + 512 KiB), and everything else,
    the dashboard's forms and the login page among them (body_limit_web).
    """

    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self._routes = [
            (prefix, RequestBodyLimitMiddleware(app, max_body_size=limit))
            for prefix, limit in route_limits(settings)
        ]
        self._default = RequestBodyLimitMiddleware(app, max_body_size=settings.body_limit_web)
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        path: str = scope["path"]
        for prefix, limited in self._routes:
            if path.startswith(prefix):
                await limited(scope, receive, send)
                return
        await self._default(scope, receive, send)
