"""The simulator's SMS pane: a text to one of our numbers, answered by the same SMS service as
the Twilio webhook (`outreach text` drives that), inside a savepoint that is then rolled back.

Nothing of a simulated text is kept: no interaction, consent, enrolment or outbox row, so it is
never counted in reports and never sends anything.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends

from campaigns.sms.service import MAX_REPLY, InboundSms, handle_inbound_sms
from outreach.core.deps import CtxDep, SessionDep
from outreach.core.privacy import Address
from outreach.web.flows.access import FlowManager, flow_manager

router = APIRouter(
    prefix="/dashboard/flows", include_in_schema=False, dependencies=[Depends(flow_manager)]
)

# The pretend texter: a number in a range that is never assigned (ITU "for testing").
SIM_SENDER = "+994000000000"


@router.post("/sms")
def simulate_sms(
    user: FlowManager,
    session: SessionDep,
    ctx: CtxDep,
    to: Annotated[str, Body(max_length=40, pattern=r"^\+?[0-9]{3,15}$")],
    body: Annotated[str, Body(max_length=MAX_REPLY)],
) -> dict[str, Any]:
    message = InboundSms(
        message_sid="SIM" + secrets.token_hex(16),
        sender=Address.parse(SIM_SENDER),
        to=Address.parse(to),
        body=body,
    )
    dry_run = session.begin_nested()
    try:
        outcome = handle_inbound_sms(session, ctx, message=message, now=ctx.clock())
    finally:
        dry_run.rollback()
    return {"reply": outcome.reply or "", "simulated": True}
