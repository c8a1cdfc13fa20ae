"""Fuzz of the five Twilio webhooks with valid signatures: hostile forms never answer 5xx.

Each example is a validly signed POST whose form starts from a plausible Twilio request for
the route (known sids, the demo's numbers, real statuses), with fields dropped, replaced by
hostile values (huge, Unicode digits, control characters, odd numbers), duplicated, or added.
The number of examples per route is OUTREACH_FUZZ_EXAMPLES (default 100).
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode
from xml.etree import ElementTree

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.datastructures import MultiDict

from campaigns.followups.service import opt_in
from outreach.core.context import AppContext
from tests.support.app import sign
from tests.support.followups import (
    CAMPAIGN_NUMBER,
    PERSON,
    dispatch,
    fake_gateway,
    make_campaign,
    outbox,
)
from tests.support.voice import OPEN, RADIO, TV, Caller

EXAMPLES = int(os.environ.get("OUTREACH_FUZZ_EXAMPLES", "100"))
FLYER = "+994502000101"
UNKNOWN = "+994125559999"

HOSTILE = st.sampled_from(
    [
        "",
        " ",
        "²",
        "١٢",
        "３",
        "9" * 5000,
        "9" * 10,
        "-1",
        "+1",
        "1e999",
        "NaN",
        "0x1F",
        "\x00",
        "\r\n",
        "\t",
        "\u202e\u200b\ufeff",
        "😀" * 50,
        "x" * 20_000,
        "SM" + "1" * 100,
        "CA" + "f" * 100,
        "whatsapp:",
        "whatsapp:+",
        "whatsapp:" + PERSON,
        "+",
        "+" + "9" * 40,
        "00994501234567",
        "client:alice",
        "sip:x@example.org",
        "<Response><Hangup/></Response>",
        "' OR 1=1 --",
        "%00",
        "&=&=",
    ]
)
TEXT = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=60)
CONTROL = st.text(alphabet=st.characters(max_codepoint=0x1F), max_size=8)
# Digits of other scripts, superscripts and circled digits: str.isdigit() takes them all.
DIGITISH = st.one_of(
    st.text(alphabet=st.sampled_from("0123456789²³¹⁰⁴①⑨₂٠١٢٣۴۵०१௧๑３"), min_size=1, max_size=9),
    st.integers(min_value=10**9).map(str),
)
VALUES = st.one_of(HOSTILE, TEXT, CONTROL, DIGITISH, st.integers().map(str))
# Fields read as numbers get odd numbers more often.
NUMERIC = {"ErrorCode", "CallDuration", "NumMedia", "seq", "o"}
FIELDS = [
    "MessageSid",
    "SmsSid",
    "AccountSid",
    "From",
    "To",
    "Body",
    "NumMedia",
    "MessageStatus",
    "SmsStatus",
    "ErrorCode",
    "CallSid",
    "CallStatus",
    "CallDuration",
    "Direction",
    "Digits",
    "DialCallStatus",
    "WaId",
]
NAMES = st.one_of(st.sampled_from(FIELDS), TEXT)


@dataclass
class World:
    """What the fuzz can refer to: a sent follow-up message and a call in progress."""

    message_sid: str
    outbox_id: int
    call_sid: str


def _sid(prefix: str) -> Any:
    return st.text(alphabet="0123456789abcdef", min_size=32, max_size=32).map(prefix.__add__)


def _plausible(route: str, world: World) -> tuple[dict[str, Any], dict[str, Any]]:
    """Returns (form field strategies, query parameter strategies) of a likely request."""
    numbers = st.sampled_from([PERSON, f"whatsapp:{PERSON}", FLYER, RADIO, TV, UNKNOWN])
    ours = st.sampled_from([FLYER, CAMPAIGN_NUMBER, RADIO, TV, UNKNOWN, f"whatsapp:{FLYER}"])
    message_sid = st.one_of(st.just(world.message_sid), _sid("SM"))
    call_sid = st.one_of(st.just(world.call_sid), _sid("CA"))
    if route == "/twilio/sms":
        body = st.sampled_from(["iş", "РАБОТА", "YES", "BƏLİ", "STOP", "DAYANDIR", "work"])
        form = {"MessageSid": _sid("SM"), "From": numbers, "To": ours, "Body": body}
        return form | {"NumMedia": st.just("0")}, {}
    if route == "/twilio/sms/status":
        status = st.sampled_from(["queued", "sent", "delivered", "undelivered", "failed"])
        form = {"MessageSid": message_sid, "MessageStatus": status, "ErrorCode": st.just("30003")}
        return form, {"o": st.just(str(world.outbox_id))}
    status = st.sampled_from(["ringing", "in-progress", "completed", "busy", "no-answer"])
    direction = st.sampled_from(["inbound", "outbound-api", "outbound-dial"])
    call = {"CallSid": call_sid, "From": numbers, "To": ours, "Direction": direction}
    if route == "/twilio/voice":
        return call | {"CallStatus": status}, {}
    if route == "/twilio/voice/step":
        digits = st.sampled_from(["1", "2", "3", "9", "*", "#", "", "11"])
        dial = st.sampled_from(["completed", "busy", "no-answer", "failed"])
        query = {"seq": st.integers(0, 8).map(str), "event": st.sampled_from(["dial", "continue"])}
        return call | {"Digits": digits, "DialCallStatus": dial}, query
    return call | {"CallStatus": status, "CallDuration": st.integers(0, 4000).map(str)}, {}


def _pairs(data: st.DataObject, fields: dict[str, Any]) -> list[tuple[str, str]]:
    """Draws the fields of one request: kept, dropped, made hostile, duplicated, or added."""
    pairs = []
    for name, plausible in fields.items():
        hostile = st.one_of(DIGITISH, VALUES) if name in NUMERIC else VALUES
        fate = data.draw(st.sampled_from(["keep", "keep", "drop", "hostile", "hostile", "twice"]))
        if fate == "drop":
            continue
        pairs.append((name, data.draw(hostile if fate == "hostile" else plausible)))
        if fate == "twice":
            pairs.append((name, data.draw(st.one_of(plausible, hostile))))
    pairs += data.draw(st.lists(st.tuples(NAMES, VALUES), max_size=6))
    return data.draw(st.permutations(pairs))


@pytest.fixture
def world(loaded: AppContext, client: TestClient) -> World:
    loaded.clock = lambda: OPEN
    fake_gateway(loaded)
    campaign_id = make_campaign(loaded)
    with loaded.sessions.begin() as session:
        opt_in(
            session,
            loaded,
            campaign_id=campaign_id,
            number=PERSON,
            language="en",
            channel="sms",
            now=OPEN,
        )
    dispatch(loaded)
    [row, *_] = outbox(loaded)
    assert row.message_sid
    call = Caller(client, RADIO)
    call.start()
    return World(message_sid=row.message_sid, outbox_id=row.id, call_sid=call.sid)


@pytest.mark.parametrize(
    "route",
    [
        "/twilio/sms",
        "/twilio/sms/status",
        "/twilio/voice",
        "/twilio/voice/step",
        "/twilio/voice/status",
    ],
)
def test_signed_hostile_requests_never_get_a_5xx(
    client: TestClient, world: World, route: str
) -> None:
    fields, query_fields = _plausible(route, world)
    answers: Counter[int] = Counter()

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(data=st.data())
    def fuzz(data: st.DataObject) -> None:
        form = _pairs(data, fields)
        query = urlencode(_pairs(data, query_fields))
        path = f"{route}?{query}" if query else route
        response = client.post(
            path,
            content=urlencode(form).encode(),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": sign(path, MultiDict(form)),  # type: ignore[arg-type]
            },
        )
        answers[response.status_code] += 1
        assert response.status_code < 500, (path, form, response.text[:300])
        if response.headers.get("content-type", "").startswith("application/xml"):
            ElementTree.fromstring(response.text)  # TwiML is always well-formed

    fuzz()
    # Not hollow: most requests passed the signature check and reached the handler.
    assert answers[403] < sum(answers.values()) / 2, answers
