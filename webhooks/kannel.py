"""Kannel's smsbox: MO messages (sms-service get-url/post-url) and delivery reports (dlr-url).

The URLs carry a secret as their last path segment, compared in constant time; an optional
allow-list restricts the callers' addresses. The reply goes back as the HTTP body, in UCS-2
(X-Kannel-Coding: 2) when it is not GSM-7, so Azerbaijani and Cyrillic arrive intact; smsbox
splits a long one into concatenated parts (`concatenation` in `outreach kannel config`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response

from campaigns.followups.delivery import apply_status
from campaigns.registry.enums import Gateway
from outreach.core.channels import KANNEL_PREFIX
from outreach.core.deps import CtxDep, get_ctx
from outreach.core.kannel import dlr_status
from outreach.core.privacy import international
from outreach.core.smstext import encode
from webhooks.channels import (
    MAX_TEXT_BYTES,
    check_secret,
    check_source,
    decode_text,
    handle_gateway_text,
    raw_query,
    short_field,
)
from webhooks.fields import ascii_number
from webhooks.sms import APOLOGY
from webhooks.transaction import in_transaction

log = logging.getLogger(__name__)
router = APIRouter(prefix=KANNEL_PREFIX, tags=["kannel"])
SID_PREFIX = "kannel:"  # interaction ids: Kannel's message id, apart from Twilio's


@dataclass(frozen=True)
class KannelMo:
    message_id: str
    sender: str
    to: str
    text: str


async def kannel_mo(request: Request, secret: str) -> KannelMo:
    """Checks the caller and reads an MO: from, to, id and text in the query (get-url), or the
    text as the body (post-url); 4xx before anything is recorded."""
    ctx = get_ctx(request)
    check_source(request, ctx.settings.kannel_networks(), gateway="kannel")
    check_secret(secret, ctx.settings.kannel_secret, gateway="kannel")
    fields = raw_query(request)
    charset = short_field(fields, "charset", required=False)
    raw = fields.get("text")
    if raw is None and request.method == "POST":
        raw = await request.body()
        charset = charset or request.headers.get("content-type", "").partition("charset=")[2]
    if raw is None:
        raise HTTPException(status_code=400, detail="missing field: text")
    if len(raw) > MAX_TEXT_BYTES:
        raise HTTPException(status_code=413, detail="text too long")
    return KannelMo(
        message_id=short_field(fields, "id"),
        sender=international(short_field(fields, "from")),
        to=short_field(fields, "to"),
        text=decode_text(raw, charset),
    )


def kannel_reply(text: str | None) -> Response:
    """The reply as smsbox sends it: GSM-7 text as UTF-8, anything else as UTF-16BE (UCS-2)."""
    if not text:
        return Response(status_code=200, content=b"", media_type="text/plain; charset=UTF-8")
    encoded = encode(text)
    return Response(
        content=encoded.payload,
        media_type=f"text/plain; charset={encoded.charset}",
        headers={"X-Kannel-Coding": str(encoded.coding)},
    )


@router.get("/{secret}/mo", operation_id="kannel_mo_get")
@router.post("/{secret}/mo", operation_id="kannel_mo_post")
def inbound(mo: Annotated[KannelMo, Depends(kannel_mo)], ctx: CtxDep) -> Response:
    """Answers an MO text to a Kannel number with the campaign's reply (as the HTTP body)."""
    outcome = handle_gateway_text(
        ctx,
        Gateway.KANNEL,
        sid=SID_PREFIX + mo.message_id,
        sender=mo.sender,
        to=mo.to,
        text=mo.text,
    )
    return kannel_reply(APOLOGY if outcome is None else outcome.reply)


@router.get("/{secret}/dlr")
def delivery_report(request: Request, secret: str, ctx: CtxDep) -> Response:
    """Records a delivery report of a follow-up sent through sendsms (`status` is `%d`)."""
    check_source(request, ctx.settings.kannel_networks(), gateway="kannel")
    check_secret(secret, ctx.settings.kannel_secret, gateway="kannel")
    fields = raw_query(request)
    sid = short_field(fields, "s")
    status = dlr_status(short_field(fields, "status"))
    outbox_id = ascii_number(short_field(fields, "o", required=False))
    if status is None:
        raise HTTPException(status_code=400, detail="status must be a Kannel DLR type")

    def not_recorded(_exc: Exception) -> bool:
        log.exception("could not record a kannel dlr", extra={"outbox_id": outbox_id})
        return False

    in_transaction(
        ctx,
        lambda session: apply_status(
            session, sid=sid, status=status, error_code=None, now=ctx.clock(), outbox_id=outbox_id
        ),
        failed=not_recorded,
    )
    return Response(status_code=200)
