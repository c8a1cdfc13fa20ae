"""A generic HTTP aggregator: inbound messages with a configurable field mapping, and status
callbacks. The reply is sent back through the aggregator's send API (outreach.core.httpchannel).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from campaigns.followups.delivery import apply_status
from campaigns.registry.enums import Gateway
from campaigns.sms.replies import send_reply_of
from outreach.core.channels import HTTP_PREFIX
from outreach.core.deps import CtxDep, get_ctx
from outreach.core.privacy import international
from webhooks.channels import MAX_FIELD, MAX_TEXT_BYTES, check_secret, handle_gateway_text
from webhooks.fields import ascii_number
from webhooks.transaction import in_transaction

log = logging.getLogger(__name__)
router = APIRouter(prefix=HTTP_PREFIX, tags=["http channel"])
SID_PREFIX = "http:"


@dataclass(frozen=True)
class HttpMo:
    message_id: str
    sender: str
    to: str
    text: str


async def _fields(request: Request) -> dict[str, Any]:
    """The request's fields: a JSON object, a form, or the query string; 400 otherwise."""
    body = await request.body()
    if len(body) > MAX_TEXT_BYTES:
        raise HTTPException(status_code=413, detail="body too large")
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    fields: dict[str, Any] = dict(request.query_params)
    try:
        if kind == "application/json":
            data = json.loads(body or b"{}")
            if not isinstance(data, dict):
                raise ValueError("not an object")
            fields.update(data)
        elif body:
            fields.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    except (ValueError, UnicodeDecodeError) as exc:
        raise HTTPException(status_code=400, detail="body is not a JSON object or a form") from exc
    return fields


def _text(
    fields: dict[str, Any], name: str, *, required: bool = True, limit: int = MAX_FIELD
) -> str:
    value = fields.get(name)
    if value is None or isinstance(value, (dict, list, bool)):
        value = ""
    text = str(value).strip() if limit == MAX_FIELD else str(value)
    if required and not text.strip():
        raise HTTPException(status_code=400, detail=f"missing field: {name}")
    if len(text) > limit:
        raise HTTPException(status_code=400, detail=f"field too long: {name}")
    return text


async def http_mo(request: Request, secret: str) -> HttpMo:
    ctx = get_ctx(request)
    check_secret(secret, ctx.settings.http_channel_secret, gateway="http")
    fields = await _fields(request)
    s = ctx.settings
    return HttpMo(
        message_id=_text(fields, s.http_channel_field_id),
        sender=international(_text(fields, s.http_channel_field_from)),
        to=_text(fields, s.http_channel_field_to),
        text=_text(fields, s.http_channel_field_text, required=False, limit=MAX_TEXT_BYTES),
    )


@router.post("/{secret}/receive")
def inbound(mo: Annotated[HttpMo, Depends(http_mo)], ctx: CtxDep) -> Response:
    """Records an inbound message; the reply goes out through the aggregator's send API."""
    outcome = handle_gateway_text(
        ctx,
        Gateway.HTTP,
        sid=SID_PREFIX + mo.message_id,
        sender=mo.sender,
        to=mo.to,
        text=mo.text,
        queue_reply=True,
    )
    if outcome is None:
        return JSONResponse({"ok": False}, status_code=503)
    # The reply was queued with the message: it goes out now, or the retry job sends it. A
    # retried message tries a reply that is open and due again, and never queues a second.
    try:
        send_reply_of(ctx, outcome.interaction_id)
    except SQLAlchemyError:
        log.exception("http channel reply left to the retry job", extra={"gateway": "http"})
    return JSONResponse({"ok": True, "duplicate": outcome.duplicate})


@router.get("/{secret}/status", operation_id="http_channel_status_get")
@router.post("/{secret}/status", operation_id="http_channel_status_post")
async def status(request: Request, secret: str) -> Response:
    """Records a delivery status of a follow-up (`id` is ours, `status` a delivery word)."""
    ctx = get_ctx(request)
    check_secret(secret, ctx.settings.http_channel_secret, gateway="http")
    fields = await _fields(request)
    sid = _text(fields, "id")
    word = _text(fields, "status").lower()
    outbox_id = ascii_number(fields.get("o"))

    def not_recorded(_exc: Exception) -> bool:
        log.exception("could not record an http channel status", extra={"outbox_id": outbox_id})
        return False

    def record() -> None:
        in_transaction(
            ctx,
            lambda session: apply_status(
                session, sid=sid, status=word, error_code=None, now=ctx.clock(), outbox_id=outbox_id
            ),
            failed=not_recorded,
        )

    await run_in_threadpool(record)
    return Response(status_code=200)
