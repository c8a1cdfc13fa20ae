"""An unanswered transfer: busy/no-answer/failed says `unavailable` and goes on to `next`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from rich.console import Console

from outreach.core.context import AppContext
from outreach.demo.phone import Consultant, Keypad, Phone
from tests.support.app import PUBLIC_URL, signed_post
from tests.support.voice import OPEN, RADIO, Caller, path, record, said, verbs

OPTIN_EN = "To receive this information by text message, press 1. Otherwise, press 2."


@pytest.fixture
def phone(loaded: AppContext, client: TestClient) -> Iterator[TestClient]:
    loaded.clock = lambda: OPEN
    yield client


def dialed(phone: TestClient, language_key: str = "3") -> Caller:
    call = Caller(phone, RADIO)
    call.start()
    call.press(language_key)
    call.press("0")  # speak to a consultant
    assert verbs(call.twiml)[-1].tag == "Dial"
    return call


@pytest.mark.parametrize("status", ["busy", "no-answer", "failed"])
def test_an_unanswered_consultant_line_says_unavailable_and_goes_on(
    phone: TestClient, loaded: AppContext, status: str
) -> None:
    call = dialed(phone)
    call.dial_result(status)
    assert said(call.twiml) == ["All consultants are busy right now.", OPTIN_EN]
    assert [v.tag for v in verbs(call.twiml)] == ["Say", "Gather"]
    call.press("2")
    assert call.ended
    stored, events = record(loaded, call.sid)
    assert [e.value for e in events if e.kind == "transferred"] == ["dialing", status]
    went = [
        (e.question_id, e.value) for e in events if e.kind == "went_on" and e.node == "consultant"
    ]
    assert went == [("unavailable", "sms_optin")]
    assert path(events)[-3:] == ["consultant", "sms_optin", "goodbye"]
    assert stored.outcome == "completed" and stored.results == {"topic": "consultant"}


def test_an_unanswered_line_plays_the_azerbaijani_audio(phone: TestClient) -> None:
    call = dialed(phone, "1")
    call.dial_result("no-answer")
    assert said(call.twiml) == [
        f"{PUBLIC_URL}/audio/az/unavailable.wav",
        f"{PUBLIC_URL}/audio/az/optin.wav",
    ]


def test_a_dial_result_without_a_status_counts_as_no_answer(
    phone: TestClient, loaded: AppContext
) -> None:
    call = dialed(phone)
    call.post(call.action(), call.form())
    assert said(call.twiml)[0] == "All consultants are busy right now."
    _, events = record(loaded, call.sid)
    assert [e.value for e in events if e.kind == "transferred"] == ["dialing", "no-answer"]


def test_a_retried_dial_result_is_answered_once(phone: TestClient, loaded: AppContext) -> None:
    call = dialed(phone)
    first = call.dial_result("busy")
    assert call.retry() == first
    _, events = record(loaded, call.sid)
    assert [e.value for e in events if e.kind == "transferred"] == ["dialing", "busy"]


@pytest.mark.parametrize(
    ("consultant", "printed", "outcome"),
    [
        (Consultant.ANSWERS, "a consultant answers", "transferred"),
        (Consultant.BUSY, "the line is busy", "completed"),
        (Consultant.NO_ANSWER, "nobody answers", "completed"),
    ],
)
def test_the_terminal_phone_posts_what_the_consultant_line_did(
    phone: TestClient, loaded: AppContext, consultant: Consultant, printed: str, outcome: str
) -> None:
    def post(target: str, params: dict[str, str]) -> tuple[int, str]:
        response = signed_post(phone, target, params)
        return response.status_code, response.text

    console = Console(record=True, width=200)
    device = Phone(loaded.settings, post, Keypad(["3", "0", "2"]), console, consultant)
    assert device.call(RADIO, "+994501234567") == "completed"
    out = console.export_text()
    assert f"dialing +994125550199 — {printed}" in out
    assert ("All consultants are busy right now." in out) is (consultant is not Consultant.ANSWERS)
    stored, _ = record(loaded, device.sid)
    assert stored.outcome == outcome
