"""POST /twilio/sms/status: delivery status callbacks of the follow-up messages we sent."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request, Response

from campaigns.followups.delivery import apply_status, status_from_twilio
from outreach.core.deps import CtxDep
from outreach.core.metrics import DELIVERY_STATUSES
from webhooks.fields import ascii_number
from webhooks.security import SignedForm
from webhooks.transaction import in_transaction, off_the_loop

log = logging.getLogger(__name__)
router = APIRouter(prefix="/twilio", tags=["twilio"])


def status_label(status: str) -> str:
    """Twilio's MessageStatus as a metrics label; anything unknown is `other` (few labels)."""
    value = status.lower()
    return value if status_from_twilio(value) is not None else "other"


@router.post("/sms/status")
async def sms_status(request: Request, form: SignedForm, ctx: CtxDep) -> Response:
    """Records a MessageStatus; unknown sids, repeats and late statuses are acknowledged."""
    sid = str(form.get("MessageSid") or form.get("SmsSid") or "").strip()
    status = str(form.get("MessageStatus") or form.get("SmsStatus") or "").strip()
    if not sid or not status:
        return Response(status_code=400, content="MessageSid and MessageStatus are required")
    # Not ASCII digits: ignored (the status still counts; `o` falls back to the sid).
    code = ascii_number(form.get("ErrorCode"))
    DELIVERY_STATUSES.labels(status=status_label(status)).inc()
    outbox_id = ascii_number(request.query_params.get("o"))

    def not_recorded(_exc: Exception) -> bool:
        # Twilio retries on 5xx; a status we cannot store is not worth a retry storm.
        log.exception("could not record a message status", extra={"sid": sid[:64]})
        return False

    await off_the_loop(
        ctx,
        lambda: in_transaction(
            ctx,
            lambda session: apply_status(
                session,
                sid=sid,
                status=status,
                error_code=code,
                now=ctx.clock(),
                outbox_id=outbox_id,
            ),
            failed=not_recorded,
        ),
    )
    return Response(status_code=200)
