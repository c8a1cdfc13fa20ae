"""The client of Kannel's smsbox `sendsms` interface, with the Twilio gateway's typed errors.

smsbox answers 202 "0: Accepted for delivery" (or "3: Queued for later delivery" while no
SMSC is connected). Kannel gives no message id there, so we make one, and it rides in the
`dlr-url` with the outbox row id; smsbox calls that URL with `%d`, the DLR type.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx

from outreach.core.gateway import (
    HTTP_TIMEOUT_SECONDS,
    GatewayError,
    RateLimiter,
    SendResult,
    classify,
    retrying,
)
from outreach.core.settings import Settings
from outreach.core.smstext import encode

# DLR types asked for: 1 delivered, 2 failed (undelivered), 16 rejected by the SMSC.
DLR_MASK = 1 | 2 | 16
# Kannel's DLR types as the delivery words of outreach (Twilio's MessageStatus vocabulary).
DLR_STATUS = {1: "delivered", 2: "undelivered", 4: "queued", 8: "sent", 16: "failed"}
ACCEPTED = ("0:", "3:")  # "Accepted for delivery", "Queued for later delivery"
SID_PREFIX = "kannel-"


class KannelGateway:
    """Sends SMS through smsbox's sendsms: rate limit per sender, typed errors, retries."""

    def __init__(
        self,
        *,
        sendsms_url: str,
        username: str,
        password: str,
        rate_per_second: float = 10.0,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.sendsms_url = sendsms_url
        self.username = username
        self.password = password
        self.client = client or httpx.Client(timeout=HTTP_TIMEOUT_SECONDS)
        self.limiter = RateLimiter(rate_per_second, sleep=sleep)
        self._sleep = sleep

    @classmethod
    def from_settings(cls, settings: Settings, **kw: Any) -> KannelGateway:
        return cls(
            sendsms_url=settings.kannel_sendsms_url,
            username=settings.kannel_username,
            password=settings.kannel_password,
            rate_per_second=settings.send_rate_per_second,
            **kw,
        )

    def send_sms(
        self, *, to: str, from_: str, body: str, status_callback: str | None, attempts: int = 1
    ) -> SendResult:
        """Queues one SMS at smsbox (UCS-2 when the text is not GSM-7); raises GatewayError.

        `status_callback` is our DLR URL; the message id and `%d` are added to it here.
        """
        sid = SID_PREFIX + uuid.uuid4().hex
        params = {
            "username": self.username,
            "password": self.password,
            "to": to,
            "from": from_,
            "text": body,
            "charset": "UTF-8",
            "coding": str(encode(body).coding),
        }
        if status_callback:
            joiner = "&" if "?" in status_callback else "?"
            # %d stays literal: smsbox replaces it with the DLR type.
            params["dlr-url"] = f"{status_callback}{joiner}s={quote(sid)}&status=%d"
            params["dlr-mask"] = str(DLR_MASK)

        def send() -> SendResult:
            self.limiter.acquire(from_)
            try:
                response = self.client.get(self.sendsms_url, params=params)
            except httpx.HTTPError as exc:
                raise GatewayError(f"network error: {type(exc).__name__}", permanent=False) from exc
            text = response.text.strip()
            if response.status_code < 300 and text.startswith(ACCEPTED):
                return SendResult(sid=sid, status="queued")
            raise classify(status=response.status_code, code=None, message=text[:200])

        return retrying(send, attempts, sleep=self._sleep, name="kannel")


def dlr_status(raw: str) -> str | None:
    """The delivery word of a Kannel DLR type (`%d`), or None for one we do not track."""
    text = raw.strip()
    return DLR_STATUS.get(int(text)) if text.isascii() and text.isdigit() else None
