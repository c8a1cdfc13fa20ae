"""What the local-gateway endpoints share: the secret in the URL, the source allow-list, and
the query string read in the charset the gateway says it used, and the one inbound path."""

from __future__ import annotations

import codecs
import hmac
import ipaddress
import logging
from collections.abc import Sequence
from urllib.parse import parse_qsl

from fastapi import HTTPException, Request
from sqlalchemy.orm import Session

from campaigns.registry.channels import gateway_of
from campaigns.registry.enums import Gateway
from campaigns.sms import replies
from campaigns.sms.service import InboundSms, SmsOutcome, handle_inbound_sms
from outreach.core.context import AppContext
from outreach.core.privacy import Address
from outreach.core.settings import ProxyNetwork
from webhooks.transaction import in_transaction

log = logging.getLogger(__name__)

MAX_FIELD = 255  # ids and addresses; a longer one is refused (400)
MAX_TEXT_BYTES = 8 * 1024  # a concatenated SMS is well under this


def check_secret(given: str, expected: str, *, gateway: str) -> None:
    """403 unless the URL's secret matches the configured one (constant-time; unset: never)."""
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        log.warning("gateway request with a wrong secret", extra={"gateway": gateway})
        raise HTTPException(status_code=403, detail="wrong secret")


def check_source(request: Request, allowed: Sequence[ProxyNetwork], *, gateway: str) -> None:
    """403 when an allow-list is set and the caller's address is not in it."""
    if not allowed:
        return
    peer = request.client.host if request.client else ""
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        address = None
    if address is None or not any(address in network for network in allowed):
        log.warning("gateway request from an address not allowed", extra={"gateway": gateway})
        raise HTTPException(status_code=403, detail="source address not allowed")


def raw_query(request: Request) -> dict[str, bytes]:
    """The query's fields as bytes (percent-decoded, not yet decoded to text); first wins."""
    query = request.scope.get("query_string", b"").decode("latin-1")
    fields: dict[str, bytes] = {}
    for name, value in parse_qsl(query, keep_blank_values=True, encoding="latin-1"):
        fields.setdefault(name, value.encode("latin-1"))
    return fields


def decode_text(raw: bytes, charset: str) -> str:
    """Decodes a message text in the gateway's charset; 400 for an unknown charset or bad bytes."""
    name = (charset or "UTF-8").strip() or "UTF-8"
    try:
        codec = codecs.lookup(name)
        return raw.decode(codec.name)
    except (LookupError, UnicodeDecodeError) as exc:
        raise HTTPException(status_code=400, detail=f"text is not valid {name[:32]}") from exc


def short_field(fields: dict[str, bytes], name: str, *, required: bool = True) -> str:
    """An ASCII-ish field (a number, an id): stripped, at most MAX_FIELD characters."""
    value = fields.get(name, b"").decode("utf-8", errors="replace").strip()
    if required and not value:
        raise HTTPException(status_code=400, detail=f"missing field: {name}")
    if len(value) > MAX_FIELD:
        raise HTTPException(status_code=400, detail=f"field too long: {name}")
    return value


def handle_gateway_text(
    ctx: AppContext,
    gateway: Gateway,
    *,
    sid: str,
    sender: str,
    to: str,
    text: str,
    queue_reply: bool = False,
) -> SmsOutcome | None:
    """Handles a local gateway's inbound text on the one SMS path (`handle_inbound_sms`).

    404 when `to` is another gateway's number. None when the database failed (logged); the
    endpoint then answers as its gateway expects (an apology, a 503). With `queue_reply` (a
    gateway that answers through a send API), a new message's reply is queued in the same
    transaction (campaigns.sms.replies) for the endpoint to send once it has committed.
    """
    # None: the database failed; handling the message then fails the same way.
    owner = in_transaction(ctx, lambda session: gateway_of(session, to), failed=lambda _: None)
    if owner not in (None, gateway):
        raise HTTPException(status_code=404, detail=f"not a {gateway} number")
    message = InboundSms(
        message_sid=sid,
        sender=Address(number=sender, whatsapp=False),
        to=Address(number=to, whatsapp=False),
        body=text,
        gateway=gateway,
    )

    def failed(_exc: Exception) -> SmsOutcome | None:
        log.exception(
            "gateway message failed",
            extra={"gateway": str(gateway), "contact": ctx.contact_id(sender)},
        )
        return None

    def handle(session: Session) -> SmsOutcome:
        now = ctx.clock()
        outcome = handle_inbound_sms(session, ctx, message=message, now=now)
        if queue_reply and outcome.reply and not outcome.duplicate:
            replies.queue_reply(
                session,
                ctx,
                interaction_id=outcome.interaction_id,
                gateway=str(gateway),
                sender=to,
                to=sender,
                text=outcome.reply,
                now=now,
            )
        return outcome

    return in_transaction(ctx, handle, failed=failed)
