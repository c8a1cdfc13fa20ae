"""Browser security headers on every response, and redirects that never name the Host header.

The pages load only their own scripts, styles and images (vendored Chart.js and Swagger UI under
/static, no inline script or style), so the policy allows 'self' and nothing inline. A redirect
built from the request's own URL (Starlette's trailing-slash redirect) would carry the Host
header the client sent; it is made relative, so a forged Host cannot redirect anywhere else.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",  # Swagger UI draws its icons from data: URIs
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


class SecurityHeadersMiddleware:
    """Adds SECURITY_HEADERS (unless a route set its own) and makes self-redirects relative."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                location = headers.get("location")
                if location:
                    headers["location"] = relative_location(location)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def relative_location(location: str) -> str:
    """Drops the scheme and host of an absolute redirect target: the service only redirects to
    itself, and the host in such a URL came from the request (a client can forge it)."""
    parts = urlsplit(location)
    if not parts.scheme and not parts.netloc:
        return location
    # "//evil.example" (or "/\\evil.example") as a path is protocol-relative to a browser.
    path = "/" + parts.path.lstrip("/\\")
    return urlunsplit(("", "", path, parts.query, parts.fragment))
