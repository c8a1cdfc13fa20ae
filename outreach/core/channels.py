"""The gateways a number can be reached through, one client each, and their callback URLs.

`twilio` (the default), `kannel` (smsbox's sendsms) and `http` (an aggregator's API) all send
with the same signature and raise the same GatewayError, so the follow-up dispatcher treats
them alike: per-sender rate limit, retries, permanent or temporary failures.
"""

from __future__ import annotations

from typing import Any, Protocol
from urllib.parse import quote

from outreach.core.gateway import HasGateway, SendResult, get_gateway
from outreach.core.httpchannel import HttpGateway
from outreach.core.kannel import KannelGateway
from outreach.core.settings import Settings

TWILIO, KANNEL, HTTP = "twilio", "kannel", "http"
TWILIO_STATUS_PATH = "/twilio/sms/status"
KANNEL_PREFIX = "/channels/kannel"
HTTP_PREFIX = "/channels/http"


class SmsSender(Protocol):
    def send_sms(
        self, *, to: str, from_: str, body: str, status_callback: str | None, attempts: int = 1
    ) -> SendResult: ...


class HasSenders(HasGateway, Protocol):
    senders: dict[str, Any]


def get_sender(ctx: HasSenders, gateway: str) -> SmsSender:
    """The client of a gateway, built from the settings on first use (tests set fakes)."""
    if gateway == TWILIO:
        return get_gateway(ctx)
    sender = ctx.senders.get(gateway)
    if sender is None:
        if gateway == KANNEL:
            sender = KannelGateway.from_settings(ctx.settings)
        elif gateway == HTTP:
            sender = HttpGateway.from_settings(ctx.settings)
        else:
            raise ValueError(f"unknown gateway {gateway!r}")
        ctx.senders[gateway] = sender
    return sender


def kannel_base(settings: Settings) -> str:
    """Where smsbox reaches the Kannel endpoints: the callback URL, secret included."""
    base = (settings.kannel_callback_url or settings.public_url).rstrip("/")
    return f"{base}{KANNEL_PREFIX}/{quote(settings.kannel_secret, safe='')}"


def http_base(settings: Settings) -> str:
    secret = quote(settings.http_channel_secret, safe="")
    return f"{settings.public_url.rstrip('/')}{HTTP_PREFIX}/{secret}"


def status_callback(settings: Settings, gateway: str, outbox_id: int) -> str:
    """The delivery-report URL of an outbox row sent through a gateway."""
    if gateway == KANNEL:
        return f"{kannel_base(settings)}/dlr?o={outbox_id}"
    if gateway == HTTP:
        return f"{http_base(settings)}/status?o={outbox_id}"
    return f"{settings.public_url.rstrip('/')}{TWILIO_STATUS_PATH}?o={outbox_id}"
