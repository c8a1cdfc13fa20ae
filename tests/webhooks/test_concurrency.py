"""Many copies of one webhook at once, through a real uvicorn on 127.0.0.1, on each database.

Twilio retries a slow webhook and carriers duplicate messages: copies arrive together. Each
must be counted once, none may get the apology, and no follow-up may be scheduled twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from xml.etree import ElementTree

import httpx
import pytest
from sqlalchemy import func, select

from campaigns.followups.models import (
    Consent,
    ConsentKind,
    Enrollment,
    EnrollmentStatus,
    OutboxMessage,
    OutboxStatus,
    Suppression,
)
from campaigns.registry.models import Interaction
from campaigns.voice.models import Call, CallEvent
from outreach.core.context import AppContext
from tests.support.followups import Clock, baku
from tests.support.server import post_together, serve
from tests.support.voice import CALLER, RADIO, Caller

COPIES = 20
NEWS = "+994502000101"  # AZ-NEWS-XALQ-2027: keyword "news" offers the "info" series
TEXTER = "+994551112233"
NOW = baku(2027, 2, 1, 10, 0)
SMS_APOLOGY = "Sorry, we could not process your message right now"
VOICE_APOLOGY = "Sorry, something went wrong"


@pytest.fixture
def server(loaded: AppContext, app: object) -> Iterator[httpx.Client]:
    loaded.clock = Clock(NOW)
    with serve(app) as client:
        yield client


def sms(body: str, n: int, sender: str = TEXTER) -> dict[str, str]:
    return {"MessageSid": f"SM{n:032x}", "From": sender, "To": NEWS, "Body": body}


def replies(responses: list[httpx.Response]) -> list[str]:
    """The reply text of each response (all must be 200 TwiML)."""
    texts = []
    for response in responses:
        assert response.status_code == 200, response.text
        message = ElementTree.fromstring(response.text).find("Message")
        texts.append((message.text or "") if message is not None else "")
    return texts


def count(ctx: AppContext, model: type, *where: object) -> int:
    with ctx.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def text(client: httpx.Client, body: str, n: int) -> str:
    [reply] = replies(post_together(client, "/twilio/sms", [sms(body, n)]))
    return reply


def test_copies_of_one_sms_are_answered_alike_and_counted_once(
    server: httpx.Client, loaded: AppContext
) -> None:
    answers = replies(post_together(server, "/twilio/sms", [sms("news", 1)] * COPIES))
    assert not any(SMS_APOLOGY in a for a in answers)
    assert len(set(answers)) == 1 and "Reply YES for more" in answers[0]
    assert count(loaded, Interaction) == 1


def test_copies_of_one_stop_are_applied_once(server: httpx.Client, loaded: AppContext) -> None:
    text(server, "news", 1)
    text(server, "YES", 2)
    answers = replies(post_together(server, "/twilio/sms", [sms("STOP", 3)] * COPIES))
    assert not any(SMS_APOLOGY in a for a in answers)
    assert len(set(answers)) == 1 and "START" in answers[0]
    contact = loaded.contact_id(TEXTER)
    assert count(loaded, Interaction, Interaction.external_sid == sms("", 3)["MessageSid"]) == 1
    assert count(loaded, Suppression, Suppression.contact_id == contact) == 1
    assert count(loaded, Consent, Consent.kind == ConsentKind.OPT_OUT) == 1
    assert count(loaded, Enrollment, Enrollment.status == EnrollmentStatus.CANCELLED) == 1
    assert count(loaded, OutboxMessage, OutboxMessage.status != OutboxStatus.CANCELLED) == 0


def test_copies_of_one_yes_enrol_once(server: httpx.Client, loaded: AppContext) -> None:
    text(server, "news", 1)
    answers = replies(post_together(server, "/twilio/sms", [sms("YES", 2)] * COPIES))
    assert not any(SMS_APOLOGY in a for a in answers)
    assert len(set(answers)) == 1 and "STOP" in answers[0]
    assert count(loaded, Interaction) == 2
    assert count(loaded, Enrollment) == 1
    assert count(loaded, OutboxMessage) == 3  # the series' three messages, each once
    assert count(loaded, Consent, Consent.kind == ConsentKind.OPT_IN) == 1


def test_yes_texts_sent_together_enrol_once(server: httpx.Client, loaded: AppContext) -> None:
    """Issue 9.4: different messages (sids) saying YES at once schedule the series once."""
    text(server, "news", 1)
    forms = [sms("YES", 100 + n) for n in range(COPIES)]
    answers = replies(post_together(server, "/twilio/sms", forms))
    assert not any(SMS_APOLOGY in a for a in answers)
    assert count(loaded, Interaction) == 1 + COPIES  # every message is logged
    assert count(loaded, Enrollment, Enrollment.status == EnrollmentStatus.ACTIVE) == 1
    assert count(loaded, OutboxMessage) == 3


def test_stops_sent_together_are_all_logged_without_apology(
    server: httpx.Client, loaded: AppContext
) -> None:
    """Issue 9.6: twenty different STOP messages from one sender at once."""
    text(server, "news", 1)
    text(server, "YES", 2)
    forms = [sms("STOP", 100 + n) for n in range(COPIES)]
    answers = replies(post_together(server, "/twilio/sms", forms))
    assert not any(SMS_APOLOGY in a for a in answers)
    assert all("START" in a for a in answers)
    assert count(loaded, Interaction) == 2 + COPIES
    assert count(loaded, Suppression) == 1
    assert count(loaded, OutboxMessage, OutboxMessage.status != OutboxStatus.CANCELLED) == 0


def test_copies_of_one_voice_step_are_applied_once(
    server: httpx.Client, loaded: AppContext
) -> None:
    """Issue 9.5: Twilio's retries and parallel copies of one step, the opt-in key here."""
    reference = _to_the_opt_in_question(server, "+994501110000")
    reference.press("1")
    call = _to_the_opt_in_question(server, CALLER)
    forms = [call.form(Digits="1")] * COPIES
    responses = post_together(server, call.action(), forms)
    assert all(r.status_code == 200 for r in responses)
    assert not any(VOICE_APOLOGY in r.text for r in responses)
    assert {r.text for r in responses} == {reference.twiml}
    # The step's events, the step number and the enrolment: as if it came once.
    assert _events(loaded, call.sid) == _events(loaded, reference.sid)
    assert _seq(loaded, call.sid) == _seq(loaded, reference.sid)
    assert count(loaded, Enrollment) == 2  # the reference caller and this one
    assert count(loaded, OutboxMessage) == 6


def _to_the_opt_in_question(client: httpx.Client, caller: str) -> Caller:
    call = Caller(client, RADIO, caller)  # type: ignore[arg-type]
    call.start()
    call.press("3")  # English
    call.press("5")  # the MIC's locations
    call.press("3")  # get it by SMS: the opt-in question
    return call


def _events(ctx: AppContext, sid: str) -> list[tuple[str, str, str | None]]:
    with ctx.sessions() as session:
        call = session.scalars(select(Call).where(Call.call_sid == sid)).one()
        rows = session.execute(
            select(CallEvent.kind, CallEvent.node, CallEvent.value)
            .where(CallEvent.call_id == call.id)
            .order_by(CallEvent.position)
        )
        return [(str(kind), node, value) for kind, node, value in rows]


def _seq(ctx: AppContext, sid: str) -> int:
    with ctx.sessions() as session:
        return int(session.scalars(select(Call.seq).where(Call.call_sid == sid)).one())


def test_copies_of_one_new_call_start_it_once(server: httpx.Client, loaded: AppContext) -> None:
    """The entry's INSERT … ON CONFLICT DO NOTHING: one copy records the call, the rest find
    it and answer its first TwiML; the call is counted once and its first step runs once."""
    reference = Caller(server, RADIO, "+994501110000")  # type: ignore[arg-type]
    reference.start()
    call = Caller(server, RADIO)  # type: ignore[arg-type]
    responses = post_together(server, "/twilio/voice", [call.form(CallStatus="ringing")] * COPIES)
    assert all(r.status_code == 200 for r in responses)
    assert not any(VOICE_APOLOGY in r.text for r in responses)
    assert {r.text for r in responses} == {reference.twiml}
    assert count(loaded, Call, Call.call_sid == call.sid) == 1
    assert count(loaded, Interaction, Interaction.external_sid == call.sid) == 1
    assert _events(loaded, call.sid) == _events(loaded, reference.sid)
