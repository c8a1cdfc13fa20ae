"""The one client of Twilio's REST API: sends SMS and places calls, with typed errors."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import requests
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http import HttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from outreach.core.settings import Settings

log = logging.getLogger(__name__)
# The SDK logs request URLs and headers at INFO; keep it quiet so nothing personal leaks.
logging.getLogger("twilio.http_client").setLevel(logging.WARNING)

# 21610 opted out, 21211 invalid number, 30005 unknown handset, 30006 landline/unreachable.
PERMANENT_CODES = frozenset({21610, 21211, 30005, 30006})
OPTED_OUT_CODE = 21610
HTTP_TIMEOUT_SECONDS = 15.0
MAX_BACKOFF_SECONDS = 8.0

T = TypeVar("T")


class GatewayError(Exception):
    """A send that Twilio refused or that never reached it."""

    def __init__(
        self, message: str, *, code: int | None = None, status: int | None = None, permanent: bool
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.permanent = permanent

    @property
    def suppress_contact(self) -> bool:
        """Says whether the recipient opted out at Twilio (error 21610)."""
        return self.code == OPTED_OUT_CODE


@dataclass(frozen=True)
class SendResult:
    sid: str | None
    status: str


class RateLimiter:
    """Paces sends per sender number (a token bucket of one token; thread-safe).

    Each acquire reserves the next slot `1/rate` seconds after the previous one; an idle sender
    earns at most one slot of credit, so bursts never exceed two messages and the mean rate is
    held exactly. A rate of 0 or less means unlimited.
    """

    def __init__(
        self,
        rate_per_second: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._interval = 1.0 / rate_per_second if rate_per_second > 0 else 0.0
        self._clock = clock
        self._sleep = sleep
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def acquire(self, key: str) -> float:
        """Waits for the sender's next slot; returns the seconds waited."""
        if self._interval <= 0:
            return 0.0
        with self._lock:
            now = self._clock()
            slot = max(self._next.get(key, now), now - self._interval)
            self._next[key] = slot + self._interval
        wait = slot - now
        if wait > 0:
            self._sleep(wait)
            return wait
        return 0.0


class TwilioGateway:
    """Wraps twilio's Client: rate limit per sender, typed errors, optional quick retries."""

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        api_base_url: str = "",
        rate_per_second: float = 10.0,
        http_client: HttpClient | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        http = http_client or TwilioHttpClient(timeout=HTTP_TIMEOUT_SECONDS)
        self.client = Client(account_sid, auth_token, http_client=http)
        if api_base_url:
            # The Api domain reads base_url on every request (used to point at Prism or a fake).
            self.client.api.base_url = api_base_url.rstrip("/")
        self.limiter = RateLimiter(rate_per_second, sleep=sleep)
        self._sleep = sleep

    @classmethod
    def from_settings(cls, settings: Settings, **kw: Any) -> TwilioGateway:
        return cls(
            account_sid=settings.twilio_account_sid,
            auth_token=settings.twilio_auth_token,
            api_base_url=settings.twilio_api_base_url,
            rate_per_second=settings.send_rate_per_second,
            **kw,
        )

    def send_sms(
        self, *, to: str, from_: str, body: str, status_callback: str | None, attempts: int = 1
    ) -> SendResult:
        """Sends one SMS (or WhatsApp message, by address prefix); raises GatewayError."""

        def create() -> SendResult:
            self.limiter.acquire(from_)
            kwargs: dict[str, Any] = {"to": to, "from_": from_, "body": body}
            if status_callback:
                kwargs["status_callback"] = status_callback
            message = self.client.messages.create(**kwargs)
            return SendResult(sid=message.sid, status=str(message.status or "queued"))

        return self._retrying(create, attempts)

    def place_call(
        self,
        *,
        to: str,
        from_: str,
        url: str,
        status_callback: str | None = None,
        attempts: int = 1,
    ) -> str:
        """Places an outbound call whose TwiML comes from `url`; returns the CallSid."""

        def create() -> str:
            self.limiter.acquire(from_)
            kwargs: dict[str, Any] = {"to": to, "from_": from_, "url": url}
            if status_callback:
                kwargs["status_callback"] = status_callback
            call = self.client.calls.create(**kwargs)
            return str(call.sid)

        return self._retrying(create, attempts)

    def _retrying(self, action: Callable[[], T], attempts: int) -> T:
        """Runs the action, retrying transient errors with exponential backoff."""
        return retrying(lambda: _translated(action), attempts, sleep=self._sleep, name="twilio")


def retrying(
    action: Callable[[], T], attempts: int, *, sleep: Callable[[float], None], name: str
) -> T:
    """Runs a send, retrying its transient GatewayErrors with exponential backoff."""
    attempt = 1
    while True:
        try:
            return action()
        except GatewayError as exc:
            if exc.permanent or attempt >= max(1, attempts):
                raise
            delay = min(MAX_BACKOFF_SECONDS, 0.5 * 2 ** (attempt - 1))
            log.warning(
                f"{name} send failed, retrying",
                extra={"code": exc.code, "status": exc.status, "delay": delay},
            )
            sleep(delay)
            attempt += 1


def _translated(action: Callable[[], T]) -> T:
    """Runs the action and turns SDK and network failures into GatewayError."""
    try:
        return action()
    except (TwilioRestException, TwilioServiceException) as exc:
        raise classify(status=exc.status, code=exc.code, message=_message_of(exc)) from exc
    except (requests.RequestException, OSError) as exc:
        raise GatewayError(f"network error: {type(exc).__name__}", permanent=False) from exc


def _message_of(exc: TwilioRestException | TwilioServiceException) -> str:
    if isinstance(exc, TwilioRestException):
        return exc.msg
    return exc.detail or exc.title


def classify(*, status: int | None, code: int | None, message: str = "") -> GatewayError:
    """Says whether a Twilio failure is permanent (bad number, opted out) or worth a retry."""
    # The SDK falls back to the HTTP status when the body has no Twilio code.
    twilio_code = code if code is not None and code >= 10000 else None
    if twilio_code in PERMANENT_CODES:
        permanent = True
    elif status is None or status in (401, 403, 429) or status >= 500 or twilio_code == 20429:
        # 401/403 are a configuration fault the operator can fix: worth retrying later.
        permanent = False
    else:
        # Other 4xx (bad request, auth, not found) will not fix themselves by retrying.
        permanent = True
    return GatewayError(
        message or f"twilio error {status}", code=twilio_code, status=status, permanent=permanent
    )


class HasGateway(Protocol):
    """What holds a process's gateway (the AppContext)."""

    settings: Settings
    gateway: TwilioGateway | None


def get_gateway(ctx: HasGateway) -> TwilioGateway:
    """Returns the context's gateway, building and caching one from its settings."""
    if ctx.gateway is None:
        ctx.gateway = TwilioGateway.from_settings(ctx.settings)
    return ctx.gateway
