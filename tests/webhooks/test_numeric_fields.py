"""Numeric fields (ErrorCode, o, seq, CallDuration) are ASCII digits of bounded length, or absent.

`str.isdigit()` accepts "²" and Arabic-Indic digits, and `int()` refuses "²" and any string of
more than 4,300 digits: each of those used to answer 500.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from campaigns.followups.models import OutboxStatus
from campaigns.followups.service import opt_in
from outreach.core.context import AppContext
from tests.support.app import signed_post
from tests.support.followups import (
    PERSON,
    Clock,
    baku,
    dispatch,
    fake_gateway,
    make_campaign,
    outbox,
)
from tests.support.voice import OPEN, RADIO, Caller, record
from webhooks.fields import ascii_number

BAD = [
    "²",  # superscript two: isdigit() but not int()
    "١٢",  # Arabic-Indic 12
    "۳۰۰۰۳",  # extended Arabic-Indic 30003
    "３",  # fullwidth 3
    "1²",
    "9" * 5000,  # int() refuses over 4,300 digits
    "9" * 10,  # over nine digits
    "-1",
    "+5",
    "1e3",
    "1_000",
    "0x1F",
    "4 2",
    "\x00",
]
STATUS = "/twilio/sms/status"


def label(value: str) -> str:
    return value if len(value) <= 12 else f"{value[:3]}... ({len(value)} characters)"


def test_ascii_number_takes_only_one_to_nine_ascii_digits() -> None:
    assert [ascii_number(v) for v in ("0", "42", " 7 ", "999999999", "00012")] == [
        0,
        42,
        7,
        999_999_999,
        12,
    ]
    assert [ascii_number(v) for v in BAD] == [None] * len(BAD)
    assert ascii_number(None) is None and ascii_number("") is None
    assert ascii_number("1234", max_digits=3) is None


@pytest.fixture
def sent_sid(ctx: AppContext) -> str:
    """The sid of one follow-up message sent through the fake gateway."""
    noon = baku(2027, 3, 1, 12, 0)
    ctx.clock = Clock(noon)
    fake_gateway(ctx)
    campaign_id = make_campaign(ctx)
    with ctx.sessions.begin() as session:
        opt_in(
            session,
            ctx,
            campaign_id=campaign_id,
            number=PERSON,
            language="en",
            channel="sms",
            now=noon,
        )
    dispatch(ctx)
    sid = outbox(ctx)[0].message_sid
    assert sid
    return sid


def test_bad_error_codes_on_sms_status_are_ignored_and_the_status_counts(
    client: TestClient, ctx: AppContext, sent_sid: str
) -> None:
    answers = {}
    for bad in BAD:
        form = {"MessageSid": sent_sid, "MessageStatus": "undelivered", "ErrorCode": bad}
        answers[label(bad)] = signed_post(client, STATUS, form).status_code
    assert answers == {label(bad): 200 for bad in BAD}
    row = outbox(ctx)[0]
    assert row.status == OutboxStatus.UNDELIVERED and row.error_code is None


def test_bad_outbox_ids_on_sms_status_fall_back_to_the_sid(
    client: TestClient, ctx: AppContext, sent_sid: str
) -> None:
    answers = {}
    for bad in BAD:
        form = {"MessageSid": sent_sid, "MessageStatus": "sent"}
        answers[label(bad)] = signed_post(client, f"{STATUS}?o={quote(bad)}", form).status_code
    assert answers == {label(bad): 200 for bad in BAD}
    assert outbox(ctx)[0].status == OutboxStatus.SENT


@pytest.fixture
def call(loaded: AppContext, client: TestClient) -> Iterator[Caller]:
    loaded.clock = lambda: OPEN
    caller = Caller(client, RADIO)
    caller.start()
    caller.press("3")
    yield caller


def test_bad_step_numbers_on_voice_step_repeat_the_current_answer(
    call: Caller, client: TestClient, loaded: AppContext
) -> None:
    current = call.twiml
    _, before = record(loaded, call.sid)
    answers = {}
    for bad in BAD:
        response = signed_post(
            client, f"/twilio/voice/step?seq={quote(bad)}", call.form(Digits="1")
        )
        answers[label(bad)] = (response.status_code, response.text == current)
    assert answers == {label(bad): (200, True) for bad in BAD}
    _, after = record(loaded, call.sid)
    assert len(after) == len(before)


def test_bad_durations_on_voice_status_are_ignored(
    call: Caller, client: TestClient, loaded: AppContext
) -> None:
    answers = {}
    for bad in BAD:
        form = call.form(CallStatus="in-progress", CallDuration=bad)
        answers[label(bad)] = signed_post(client, "/twilio/voice/status", form).status_code
    assert answers == {label(bad): 204 for bad in BAD}
    assert record(loaded, call.sid)[0].duration_seconds is None
    assert call.status("completed", duration=42) == 204
    assert record(loaded, call.sid)[0].duration_seconds == 42
