"""POST /twilio/sms: Twilio's inbound message webhook (SMS and WhatsApp)."""

from __future__ import annotations

import logging

from fastapi import APIRouter, HTTPException, Response
from twilio.twiml.messaging_response import MessagingResponse

from campaigns.registry.enums import InteractionKind
from campaigns.sms.service import InboundSms, SmsOutcome, handle_inbound_sms
from outreach.core.deps import CtxDep
from outreach.core.metrics import WEBHOOK_OUTCOMES
from outreach.core.privacy import Address
from webhooks.security import SignedForm
from webhooks.transaction import in_transaction, off_the_loop

log = logging.getLogger(__name__)
router = APIRouter(prefix="/twilio", tags=["twilio"])

TWIML = "application/xml"
APOLOGY = (
    "Üzr istəyirik, mesajınızı indi emal edə bilmədik. / "
    "Извините, сейчас не удалось обработать сообщение. / "
    "Sorry, we could not process your message right now. Please try again later."
)


def twiml_message(text: str | None) -> Response:
    """Renders a messaging reply; no text means an empty <Response/> (no SMS sent)."""
    response = MessagingResponse()
    if text:
        response.message(text)
    return Response(content=str(response), media_type=TWIML)


@router.post("/sms")
async def inbound_sms(form: SignedForm, ctx: CtxDep) -> Response:
    """Answers an inbound SMS or WhatsApp message with the campaign's reply."""
    fields = {name: str(form.get(name) or "").strip() for name in ("MessageSid", "From", "To")}
    missing = [name for name, value in fields.items() if not value]
    if missing:
        raise HTTPException(status_code=400, detail=f"missing form field(s): {', '.join(missing)}")
    message = InboundSms(
        message_sid=fields["MessageSid"],
        sender=Address.parse(fields["From"]),
        to=Address.parse(fields["To"]),
        body=str(form.get("Body") or ""),
    )

    def apologise(_exc: Exception) -> SmsOutcome | None:
        log.exception(
            "sms webhook failed; apologised to the sender",
            extra={"contact": ctx.contact_id(message.sender.number)},
        )
        return None

    outcome = await off_the_loop(
        ctx,
        lambda: in_transaction(
            ctx,
            lambda session: handle_inbound_sms(session, ctx, message=message, now=ctx.clock()),
            failed=apologise,
        ),
    )
    WEBHOOK_OUTCOMES.labels(webhook="sms", outcome=outcome_label(outcome)).inc()
    return twiml_message(APOLOGY if outcome is None else outcome.reply)


def outcome_label(outcome: SmsOutcome | None) -> str:
    """The metrics label of an answered message: matched, unmatched, command, duplicate, apology."""
    if outcome is None:
        return "apology"
    if outcome.duplicate:
        return "duplicate"
    if outcome.kind is InteractionKind.KEYWORD:
        return "matched"
    return "unmatched" if outcome.kind is InteractionKind.UNMATCHED else "command"
