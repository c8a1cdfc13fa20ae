"""Retried and bad voice requests: always valid TwiML (never a 500), and no double records."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any
from xml.etree import ElementTree

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from campaigns.registry.models import Interaction
from campaigns.voice.models import Call
from outreach.core.context import AppContext
from tests.support.app import signed_post
from tests.support.voice import CALLER, OPEN, RADIO, Caller, path, record, said, verbs


@pytest.fixture
def phone(loaded: AppContext, client: TestClient) -> Iterator[TestClient]:
    loaded.clock = lambda: OPEN
    yield client


def twiml_ok(response: Any) -> list[str]:
    assert response.status_code == 200
    root = ElementTree.fromstring(response.text)
    assert root.tag == "Response"
    return [v.tag for v in root]


def test_retried_step_gets_the_same_answer_and_no_double_events(
    phone: TestClient, loaded: AppContext
) -> None:
    call = Caller(phone, RADIO)
    call.start()
    first = call.press("2")
    _, before = record(loaded, call.sid)
    again = call.retry()
    assert again == first
    _, after = record(loaded, call.sid)
    assert len(after) == len(before)
    call.press("1")
    assert "Работайте за рубежом" in " ".join(said(call.twiml))


def test_retried_entry_gets_the_same_answer_and_one_record(
    phone: TestClient, loaded: AppContext
) -> None:
    call = Caller(phone, RADIO)
    first = call.start()
    assert call.retry() == first
    with loaded.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Call)) == 1
        assert (
            session.scalar(
                select(func.count())
                .select_from(Interaction)
                .where(Interaction.external_sid == call.sid)
            )
            == 1
        )


def test_stale_and_future_steps_repeat_the_current_answer(
    phone: TestClient, loaded: AppContext
) -> None:
    call = Caller(phone, RADIO)
    call.start()
    call.press("3")
    current = call.twiml
    for query in ("seq=1", "seq=99", "", "seq=abc", "seq=99999999999999999999"):
        response = signed_post(
            phone, f"/twilio/voice/step?{query}".rstrip("?"), call.form(Digits="1")
        )
        assert twiml_ok(response) and response.text == current
    stored, events = record(loaded, call.sid)
    assert path(events) == ["welcome", "intro", "topics"] and stored.results == {}


def test_unknown_callsid_on_step_gets_an_apology_and_hangup(phone: TestClient) -> None:
    response = signed_post(
        phone,
        "/twilio/voice/step?seq=1",
        {"CallSid": "CAunknown", "Digits": "1", "From": CALLER, "To": RADIO},
    )
    assert twiml_ok(response)[-1] == "Hangup"
    assert "Sorry, something went wrong. Please call again later." in response.text


def test_digits_not_in_the_menu_and_long_strings_reprompt(
    phone: TestClient, loaded: AppContext
) -> None:
    call = Caller(phone, RADIO)
    call.start()
    call.press("3")
    call.press("8")
    assert verbs(call.twiml)[0].tag == "Gather"
    call.press("1" * 5000)  # truncated, not in the menu: invalid
    assert verbs(call.twiml)[0].tag == "Gather"
    call.press("<script>")
    assert call.ended  # third bad answer: fallback (goodbye)


@pytest.mark.parametrize(
    ("target", "form"),
    [
        ("/twilio/voice", {}),
        ("/twilio/voice", {"CallSid": "CA1"}),
        ("/twilio/voice", {"CallSid": "CA1", "From": CALLER}),
        ("/twilio/voice/step?seq=1", {}),
        ("/twilio/voice/step", {"Digits": "1"}),
    ],
)
def test_missing_fields_get_valid_twiml(
    phone: TestClient, target: str, form: dict[str, str]
) -> None:
    tags = twiml_ok(signed_post(phone, target, form))
    assert tags[-1] == "Hangup"


def test_status_without_fields_is_a_400_and_unknown_call_is_ignored(phone: TestClient) -> None:
    assert signed_post(phone, "/twilio/voice/status", {}).status_code == 400
    unknown = {"CallSid": "CAnope", "CallStatus": "completed", "CallDuration": "x"}
    assert signed_post(phone, "/twilio/voice/status", unknown).status_code == 204


def test_number_without_a_flow_gets_a_polite_message_and_hangup(phone: TestClient) -> None:
    response = signed_post(
        phone, "/twilio/voice", {"CallSid": "CA2", "From": CALLER, "To": "+994125559999"}
    )
    tags = twiml_ok(response)
    assert tags[-1] == "Hangup" and "Say" in tags
    assert "This number is not in service at the moment. Thank you for calling." in response.text


def test_flyer_number_without_voice_is_not_in_service(phone: TestClient) -> None:
    response = signed_post(
        phone, "/twilio/voice", {"CallSid": "CA3", "From": CALLER, "To": "+994502000101"}
    )
    assert "not in service" in response.text


def test_mid_call_error_apologises_ends_and_is_logged(
    phone: TestClient,
    loaded: AppContext,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    call = Caller(phone, RADIO)
    call.start()

    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("flow engine broke")

    monkeypatch.setattr("campaigns.voice.service.step", broken)
    caplog.set_level(logging.ERROR)
    response = signed_post(phone, call.action(), call.form(Digits="1"))
    assert twiml_ok(response)[-1] == "Hangup"
    assert "Sorry, something went wrong" in response.text
    assert any("voice webhook failed" in r.getMessage() for r in caplog.records)
    stored, events = record(loaded, call.sid)
    assert stored.outcome == "error" and events[-1].kind == "ended"
    # Twilio retrying the failed step gets the same apology, not a crash.
    monkeypatch.undo()
    again = signed_post(phone, call.action(), call.form(Digits="1"))
    assert twiml_ok(again)[-1] == "Hangup"


def test_a_missing_flow_file_apologises(phone: TestClient, loaded: AppContext) -> None:
    from campaigns.registry.models import Campaign

    with loaded.sessions.begin() as session:
        campaign = session.scalar(select(Campaign).where(Campaign.code == "AZ-RADIO-IDMAN-2027"))
        assert campaign is not None
        campaign.options = {**campaign.options, "voice": {"flow": "flows/missing.yaml"}}
    response = signed_post(phone, "/twilio/voice", {"CallSid": "CA4", "From": CALLER, "To": RADIO})
    assert twiml_ok(response)[-1] == "Hangup" and "Sorry" in response.text


def test_a_write_conflict_is_retried_not_turned_into_a_failed_call(
    phone: TestClient, loaded: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import OperationalError

    import webhooks.voice

    call = Caller(phone, RADIO)
    call.start()
    real = webhooks.voice.step_call
    conflicts = [OperationalError("UPDATE calls", {}, Exception("database is locked"))]

    def racing(*args: Any, **kwargs: Any) -> str | None:
        if conflicts:
            raise conflicts.pop()
        return real(*args, **kwargs)

    monkeypatch.setattr(webhooks.voice, "step_call", racing)
    call.press("3")
    assert "This call is free and anonymous. We never share your number." in said(call.twiml)
    stored, _ = record(loaded, call.sid)
    assert stored.outcome is None and stored.language == "en"
