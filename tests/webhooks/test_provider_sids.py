"""Issue 9.7 and 9.8: provider ids (MessageSid, CallSid) that are long, or reused.

Twilio's ids have 34 characters; other gateways use longer ones. An id is kept whole, and it
identifies a message or call only together with its sender.
"""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree

from fastapi.testclient import TestClient
from sqlalchemy import select

from campaigns.followups.models import Enrollment, OutboxMessage, Suppression
from campaigns.registry.models import Interaction
from campaigns.voice.models import Call
from outreach.core.context import AppContext
from tests.support.app import signed_post
from tests.support.followups import Clock
from tests.support.voice import CALLER, OPEN, RADIO, Caller

NEWS = "+994502000101"
TEXTER = "+994551112233"
OTHER = "+994557778899"
LONG = "SM" + "a" * 62  # 64 characters, then what tells the ids apart


def text(client: TestClient, body: str, sid: str, sender: str = TEXTER) -> str:
    form = {"MessageSid": sid, "From": sender, "To": NEWS, "Body": body}
    response = signed_post(client, "/twilio/sms", form)
    assert response.status_code == 200, response.text
    message = ElementTree.fromstring(response.text).find("Message")
    return (message.text or "") if message is not None else ""


def rows(ctx: AppContext, model: Any) -> list[Any]:
    with ctx.sessions() as session:
        found = list(session.scalars(select(model)))
        session.expunge_all()
        return found


def test_a_long_message_sid_retried_gets_the_first_answer(
    client: TestClient, loaded: AppContext
) -> None:
    sid = LONG + "-retried-by-the-gateway"
    first = text(client, "news", sid)
    assert "Reply YES for more" in first
    assert text(client, "news", sid) == first
    assert [r.external_sid for r in rows(loaded, Interaction)] == [sid]


def test_two_long_message_sids_sharing_a_prefix_are_two_messages(
    client: TestClient, loaded: AppContext
) -> None:
    assert "Reply YES for more" in text(client, "news", LONG + "-1")
    assert "Work abroad?" in text(client, "work", LONG + "-2")
    assert sorted(r.external_sid for r in rows(loaded, Interaction)) == [LONG + "-1", LONG + "-2"]


def test_a_very_long_message_sid_is_stored_by_its_hash(
    client: TestClient, loaded: AppContext
) -> None:
    sid = "SM" + "b" * 400
    first = text(client, "news", sid)
    assert text(client, "news", sid) == first
    [row] = rows(loaded, Interaction)
    assert row.external_sid.startswith("sha256:") and len(row.external_sid) < 255


def test_two_long_call_sids_sharing_a_prefix_are_two_calls(
    client: TestClient, loaded: AppContext
) -> None:
    loaded.clock = Clock(OPEN)
    for suffix in ("-1", "-2"):
        call = Caller(client, RADIO, sid="CA" + "c" * 62 + suffix)
        call.start()
        call.press("3")
    assert sorted(c.call_sid[-2:] for c in rows(loaded, Call)) == ["-1", "-2"]


def test_a_message_sid_reused_by_another_sender_still_stops_them(
    client: TestClient, loaded: AppContext
) -> None:
    sid = "SM" + "d" * 32
    text(client, "news", sid)
    reply = text(client, "STOP", sid, sender=OTHER)
    assert "START" in reply
    suppressed = [s.contact_id for s in rows(loaded, Suppression)]
    assert suppressed == [loaded.contact_id(OTHER)]
    assert len(rows(loaded, Interaction)) == 2


def test_a_call_sid_reused_by_another_caller_cannot_opt_them_in(
    client: TestClient, loaded: AppContext
) -> None:
    loaded.clock = Clock(OPEN)
    call = Caller(client, RADIO)
    call.start()
    call.press("3")  # English
    call.press("5")  # the MIC's locations
    call.press("3")  # get it by SMS: the opt-in question
    step = call.action()
    intruder = signed_post(client, step, {**call.form(Digits="1"), "From": OTHER})
    assert intruder.status_code == 200 and "<Hangup" in intruder.text
    assert rows(loaded, Enrollment) == [] and rows(loaded, OutboxMessage) == []
    # The real caller's call goes on where it was, and their key press counts.
    call.post(step, call.form(Digits="1"))
    [enrollment] = rows(loaded, Enrollment)
    assert enrollment.contact_id == loaded.contact_id(CALLER)


def test_a_call_sid_reused_by_another_caller_at_the_entry_is_refused(
    client: TestClient, loaded: AppContext
) -> None:
    loaded.clock = Clock(OPEN)
    call = Caller(client, RADIO)
    call.start()
    other = Caller(client, RADIO, caller=OTHER, sid=call.sid)
    twiml = other.start()
    assert "<Hangup" in twiml and "<Gather" not in twiml
    [stored] = rows(loaded, Call)
    assert stored.contact_id == loaded.contact_id(CALLER)
