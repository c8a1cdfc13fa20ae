"""The opt-in node is offered only when it can be honoured: a campaign, no STOP, its series."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from campaigns.followups.models import Enrollment
from campaigns.registry.models import Hotline
from outreach.core.context import AppContext
from tests.support.app import signed_post
from tests.support.followups import outbox
from tests.support.voice import CALLER, CLOSED, HOTLINE, RADIO, Caller, record, said

OPTIN_EN = "To receive this information by text message, press 1. Otherwise, press 2."
NEWS_NUMBER = "+994502000101"
CODE_FIRST = """
id: code_first
languages: [en]
voices: {en: {voice: Polly.Joanna, language: en-US}}
start: psa
nodes:
  psa:
    kind: psa_code
    prompt: {en: "Key the code, then hash"}
    next: sms
    fallback: sms
  sms:
    kind: optin
    series: info
    prompt: {en: "Press 1 for SMS"}
    confirm: {en: "We will text you"}
    next: bye
  bye:
    kind: hangup
    prompt: {en: "Goodbye"}
"""


@pytest.fixture
def phone(loaded: AppContext, client: TestClient) -> Iterator[TestClient]:
    loaded.clock = lambda: CLOSED  # the consultant desk is closed: on to the opt-in node
    yield client


def heard(call: Caller) -> str:
    return " ".join(said(call.twiml))


def enrolled(ctx: AppContext) -> list[tuple[int, str]]:
    with ctx.sessions() as session:
        return [(e.campaign_id, e.series_id) for e in session.scalars(select(Enrollment))]


def went_on(ctx: AppContext, sid: str, node: str) -> list[tuple[str | None, str | None]]:
    _, events = record(ctx, sid)
    return [(e.question_id, e.value) for e in events if e.kind == "went_on" and e.node == node]


def test_an_unattributed_hotline_call_never_hears_the_opt_in(
    phone: TestClient, loaded: AppContext
) -> None:
    call = Caller(phone, HOTLINE)
    call.start()
    call.press("3")  # English
    call.press("")  # no PSA code: the call stays without a campaign
    call.press("0")  # consultant: closed, then the opt-in node
    assert OPTIN_EN not in heard(call)
    assert heard(call).endswith("Thank you for calling. Goodbye!") and call.ended
    stored, events = record(loaded, call.sid)
    assert stored.campaign_id is None and stored.outcome == "after_hours"
    assert went_on(loaded, call.sid, "sms_optin") == [("unavailable", "goodbye")]
    assert not any(e.kind == "opt_in" for e in events)


def test_a_caller_who_said_stop_never_hears_the_opt_in(
    phone: TestClient, loaded: AppContext
) -> None:
    form = {"MessageSid": "SM" + "1" * 32, "From": CALLER, "To": NEWS_NUMBER, "Body": "STOP"}
    response = signed_post(phone, "/twilio/sms", form)
    assert response.status_code == 200 and ElementTree.fromstring(response.text) is not None
    call = Caller(phone, RADIO)
    call.start()
    call.press("3")
    call.press("0")  # consultant: closed, then the opt-in node
    assert OPTIN_EN not in heard(call) and call.ended
    assert went_on(loaded, call.sid, "sms_optin") == [("unavailable", "goodbye")]
    assert enrolled(loaded) == [] and outbox(loaded) == []


def test_an_attributed_caller_hears_the_opt_in_and_is_enrolled(
    phone: TestClient, loaded: AppContext
) -> None:
    call = Caller(phone, HOTLINE)
    call.start()
    call.press("3")
    call.press("201#")  # the TV spot's code attributes the call
    call.press("0")
    assert OPTIN_EN in heard(call)
    call.press("1")
    assert "we will send you a text message" in heard(call)
    stored, _ = record(loaded, call.sid)
    assert stored.campaign_id is not None
    assert enrolled(loaded) == [(stored.campaign_id, "info")]
    assert len(outbox(loaded)) == 3


def test_a_code_keyed_just_before_the_opt_in_makes_it_available(
    phone: TestClient, loaded: AppContext, tmp_path: Path
) -> None:
    flow = tmp_path / "code_first.yaml"
    flow.write_text(CODE_FIRST, encoding="utf-8")
    with loaded.sessions() as session, session.begin():
        hotline = session.scalars(select(Hotline).where(Hotline.number == HOTLINE)).one()
        # Flow references are relative to the hotline's flows folder (here, tmp_path).
        hotline.options = {**hotline.options, "source_dir": str(tmp_path), "flow": flow.name}
    call = Caller(phone, HOTLINE)
    call.start()
    assert call.press("201#") and heard(call) == "Press 1 for SMS"
    call.press("1")
    assert heard(call) == "We will text you Goodbye"
    stored, _ = record(loaded, call.sid)
    assert enrolled(loaded) == [(stored.campaign_id, "info")]
    unattributed = Caller(phone, HOTLINE)
    unattributed.start()
    unattributed.press("")
    assert heard(unattributed) == "Goodbye" and unattributed.ended
