"""A generic HTTP aggregator (like RapidPro's "External API" channel): one configurable send.

The send URL and body are Jinja templates (sandboxed) over `to`, `sender`, `text`, `id` and
`callback`; filters say how a value is written (`|urlencode` in a URL or form, `|tojson` in
JSON). The auth header is sent as given. A send succeeded when the HTTP status is in the
success range and, if one is set, the body contains the success text.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from outreach.core.gateway import (
    HTTP_TIMEOUT_SECONDS,
    GatewayError,
    RateLimiter,
    SendResult,
    classify,
    retrying,
)
from outreach.core.settings import Settings

SID_PREFIX = "http-"
_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)


def status_range(text: str) -> range:
    """Reads "200-299" or "202" as the range of HTTP statuses that mean success."""
    low, _, high = text.strip().partition("-")
    try:
        first = int(low)
        last = int(high) if high else first
    except ValueError as exc:
        raise ValueError(f"not an HTTP status range: {text!r} (e.g. 200-299)") from exc
    return range(first, last + 1)


class HttpGateway:
    """Sends SMS through an aggregator's HTTP API described by templates."""

    def __init__(
        self,
        *,
        url: str,
        method: str = "POST",
        body: str = "",
        content_type: str = "application/json",
        auth_header: str = "",
        success_status: str = "200-299",
        success_text: str = "",
        rate_per_second: float = 10.0,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url = _ENV.from_string(url)
        self.method = method.upper()
        self.body = _ENV.from_string(body) if body and self.method != "GET" else None
        self.headers = {"Content-Type": content_type} if self.body is not None else {}
        name, _, value = auth_header.partition(":")
        if name.strip() and value.strip():
            self.headers[name.strip()] = value.strip()
        self.success = status_range(success_status)
        self.success_text = success_text
        self.client = client or httpx.Client(timeout=HTTP_TIMEOUT_SECONDS)
        self.limiter = RateLimiter(rate_per_second, sleep=sleep)
        self._sleep = sleep

    @classmethod
    def from_settings(cls, settings: Settings, **kw: Any) -> HttpGateway:
        return cls(
            url=settings.http_channel_send_url,
            method=settings.http_channel_send_method,
            body=settings.http_channel_send_body,
            content_type=settings.http_channel_content_type,
            auth_header=settings.http_channel_auth_header,
            success_status=settings.http_channel_success_status,
            success_text=settings.http_channel_success_text,
            rate_per_second=settings.send_rate_per_second,
            **kw,
        )

    def send_sms(
        self, *, to: str, from_: str, body: str, status_callback: str | None, attempts: int = 1
    ) -> SendResult:
        """Sends one SMS; raises GatewayError (permanent for a refusal, else temporary)."""
        sid = SID_PREFIX + uuid.uuid4().hex
        values = {"to": to, "sender": from_, "text": body, "id": sid, "callback": ""}
        if status_callback:
            joiner = "&" if "?" in status_callback else "?"
            values["callback"] = f"{status_callback}{joiner}id={sid}"
        try:
            url = self.url.render(values)
            content = self.body.render(values).encode() if self.body is not None else None
        except TemplateError as exc:
            raise GatewayError(f"send template error: {exc}", permanent=True) from exc

        def send() -> SendResult:
            self.limiter.acquire(from_)
            try:
                response = self.client.request(
                    self.method, url, content=content, headers=self.headers
                )
            except httpx.HTTPError as exc:
                raise GatewayError(f"network error: {type(exc).__name__}", permanent=False) from exc
            if response.status_code in self.success and self.success_text in response.text:
                return SendResult(sid=sid, status="sent")
            return_status = response.status_code if response.status_code >= 300 else 502
            raise classify(status=return_status, code=None, message=response.text[:200])

        return retrying(send, attempts, sleep=self._sleep, name="http channel")
