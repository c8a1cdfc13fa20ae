"""Whole calls through the signed voice webhooks, in each language, with the call record."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from campaigns.registry.models import Campaign, Interaction
from campaigns.voice import effects
from campaigns.voice.schemas import EffectEvent
from ivr_flows.actions import EffectKind
from outreach.core.context import AppContext
from tests.support.app import PUBLIC_URL, signed_post
from tests.support.database import statements
from tests.support.voice import (
    CALLER,
    CLOSED,
    HOTLINE,
    OPEN,
    RADIO,
    Caller,
    path,
    record,
    said,
    verbs,
)


@pytest.fixture
def phone(loaded: AppContext, client: TestClient) -> Iterator[TestClient]:
    loaded.clock = lambda: OPEN
    yield client


def campaign_id(ctx: AppContext, code: str) -> int:
    with ctx.sessions() as session:
        found = session.scalar(select(Campaign.id).where(Campaign.code == code))
        assert found is not None
        return found


@pytest.mark.parametrize(
    ("digit", "language", "voice_language", "goodbye"),
    [
        ("1", "az", "tr-TR", f"{PUBLIC_URL}/audio/az/goodbye.wav"),
        ("2", "ru", "ru-RU", "Спасибо за звонок. До свидания!"),
        ("3", "en", "en-US", "Thank you for calling. Goodbye!"),
    ],
)
def test_radio_call_walks_the_menu_in_each_language(
    phone: TestClient,
    loaded: AppContext,
    digit: str,
    language: str,
    voice_language: str,
    goodbye: str,
) -> None:
    call = Caller(phone, RADIO)
    call.start()
    gather = verbs(call.twiml)[0]
    assert gather.tag == "Gather" and gather.get("actionOnEmptyResult") == "true"
    assert gather.get("action", "").endswith("/twilio/voice/step?seq=1")
    call.press(digit)
    prompts = list(verbs(call.twiml)) + list(verbs(call.twiml)[-1])
    if language == "az":  # recorded audio, served by the app
        plays = [(p.text or "") for p in prompts if p.tag == "Play"]
        assert plays and all(u.startswith(f"{PUBLIC_URL}/audio/az/") for u in plays)
        assert not [p for p in prompts if p.tag == "Say"]
    else:
        says = [p for p in prompts if p.tag == "Say"]
        assert says and all(s.get("language") == voice_language for s in says)
    call.press("1")  # legal work abroad
    call.press("9")  # goodbye
    assert call.ended and goodbye in said(call.twiml)
    assert call.status("completed", 47) == 204

    stored, events = record(loaded, call.sid)
    assert stored.campaign_id == campaign_id(loaded, "AZ-RADIO-IDMAN-2027")
    assert stored.attribution == "number" and stored.language == language
    assert path(events) == ["welcome", "intro", "topics", "legal", "legal_more", "goodbye"]
    assert stored.results == {"topic": "legal_work"}
    assert stored.outcome == "completed" and stored.ended_node == "goodbye"
    assert stored.duration_seconds == 47 and stored.status == "completed"
    assert [e.value for e in events if e.kind == "result"] == ["legal_work"]


def test_azerbaijani_audio_is_served_by_the_app(phone: TestClient) -> None:
    response = phone.get("/audio/az/welcome.wav")
    assert response.status_code == 200 and response.content[:4] == b"RIFF"
    assert phone.get("/audio/az/nope.wav").status_code == 404


def test_call_writes_one_anonymous_interaction(phone: TestClient, loaded: AppContext) -> None:
    call = Caller(phone, RADIO)
    call.start()
    call.press("3")
    with loaded.sessions() as session:
        rows = session.scalars(
            select(Interaction).where(Interaction.external_sid == call.sid)
        ).all()
    assert len(rows) == 1
    row = rows[0]
    assert (row.channel, row.kind, row.attribution, row.language) == (
        "voice",
        "call",
        "number",
        "en",
    )
    assert row.contact_id == loaded.contact_id(CALLER) and row.number == RADIO


def test_invalid_and_no_input_reprompt_then_fall_back(
    phone: TestClient, loaded: AppContext
) -> None:
    call = Caller(phone, RADIO)
    call.start()
    call.press("3")
    call.press("7")
    assert said(call.twiml)[0] == "That is not one of the choices."
    assert verbs(call.twiml)[0].tag == "Gather"
    call.press("")
    assert said(call.twiml)[0] == "We did not hear a choice."
    assert "That is not one of the choices." not in said(call.twiml)
    assert verbs(call.twiml)[0].tag == "Gather"
    call.press("")
    assert call.ended and "Thank you for calling. Goodbye!" in said(call.twiml)
    stored, events = record(loaded, call.sid)
    kinds = [(str(e.kind), e.node) for e in events if e.node == "topics"]
    assert ("invalid", "topics") in kinds and kinds.count(("no_input", "topics")) == 2
    assert ("went_on", "topics") in kinds
    assert stored.outcome == "completed" and stored.results == {}


def test_transfer_in_office_hours_dials_the_consultant(
    phone: TestClient, loaded: AppContext
) -> None:
    call = Caller(phone, RADIO)
    call.start()
    call.press("3")
    call.press("0")
    dial = next(v for v in verbs(call.twiml) if v.tag == "Dial")
    assert (dial.text or "").strip() == "+994125550199"
    call.dial_result("completed")
    assert call.ended
    stored, _ = record(loaded, call.sid)
    assert stored.outcome == "transferred" and stored.results == {"topic": "consultant"}


def test_transfer_after_hours_plays_the_after_hours_message(
    phone: TestClient, loaded: AppContext
) -> None:
    loaded.clock = lambda: CLOSED
    call = Caller(phone, RADIO)
    call.start()
    call.press("3")
    call.press("0")
    assert not any(v.tag == "Dial" for v in verbs(call.twiml))
    text = said(call.twiml)
    assert (
        "Our consultants answer Monday to Friday, 9 am to 6 pm Baku time. Please call again then."
        in text
    )
    assert "To receive this information by text message, press 1. Otherwise, press 2." in text
    call.press("2")
    stored, events = record(loaded, call.sid)
    assert stored.outcome == "after_hours"
    assert any(e.kind == "after_hours" and e.node == "consultant" for e in events)


def test_psa_code_on_the_hotline_attributes_the_call(phone: TestClient, loaded: AppContext) -> None:
    call = Caller(phone, HOTLINE)
    call.start()
    call.press("3")
    assert "press hash" in " ".join(said(call.twiml))
    call.press("201#")
    call.press("4")
    stored, _ = record(loaded, call.sid)
    tv = campaign_id(loaded, "AZ-TV-ITV-2027")
    assert (
        stored.campaign_id == tv and stored.attribution == "psa_code" and stored.psa_code == "201"
    )
    assert stored.hotline_id is not None and stored.results == {"topic": "trafficking"}
    with loaded.sessions() as session:
        row = session.scalar(select(Interaction).where(Interaction.external_sid == call.sid))
        assert row is not None and row.campaign_id == tv and row.attribution == "psa_code"


def test_hotline_call_without_a_code_stays_unattributed(
    phone: TestClient, loaded: AppContext
) -> None:
    call = Caller(phone, HOTLINE)
    call.start()
    call.press("2")
    call.press("")
    assert "Законная работа за рубежом" in " ".join(said(call.twiml))
    stored, _ = record(loaded, call.sid)
    assert stored.campaign_id is None and stored.attribution == "none"


def test_hanging_up_mid_menu_is_recorded_at_that_node(
    phone: TestClient, loaded: AppContext
) -> None:
    call = Caller(phone, RADIO)
    call.start()
    call.press("2")
    call.status("completed", 12)
    stored, events = record(loaded, call.sid)
    assert stored.outcome == "hung_up" and stored.ended_node == "topics"
    assert (events[-2].kind, events[-2].node) == ("hung_up", "topics")


def test_opt_in_runs_registered_handlers_with_the_caller(
    phone: TestClient, loaded: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[str | None, str, str | None]] = []

    def handler(event: EffectEvent) -> None:
        seen.append((event.caller, event.effect.data["series"], event.call.language))

    handlers = {**effects.HANDLERS, EffectKind.OPT_IN: (handler,)}
    monkeypatch.setattr(effects, "HANDLERS", handlers)  # a spy in place of the table
    call = Caller(phone, RADIO)
    call.start()
    call.press("3")
    call.press("5")
    call.press("3")  # get it by SMS
    call.press("1")
    assert seen == [(CALLER, "info", "en")]
    _, events = record(loaded, call.sid)
    assert [(e.kind, e.node, e.value) for e in events if e.kind == "opt_in"] == [
        ("opt_in", "sms_optin", "info")
    ]


def test_unsigned_requests_are_refused(phone: TestClient) -> None:
    response = phone.post("/twilio/voice", data={"CallSid": "CA1", "From": CALLER, "To": RADIO})
    assert response.status_code == 403
    bad = signed_post(
        phone,
        "/twilio/voice/step?seq=1",
        {"CallSid": "CA1"},
        headers={"X-Twilio-Signature": "nope"},
    )
    assert bad.status_code == 403


def test_a_call_numbers_its_events_without_counting_them_and_adds_them_at_once(
    phone: TestClient, loaded: AppContext
) -> None:
    with statements(loaded.engine) as sent:
        call = Caller(phone, RADIO)
        call.start()
        for digits in ("3", "7", "", "1"):
            call.press(digits)
    stored, events = record(loaded, call.sid)
    assert [e.position for e in events] == list(range(len(events))) and len(events) > 5
    assert stored.events == len(events)
    assert not [s for s in sent if "count(" in s.lower() and "call_events" in s]
    # Each request appends its events with one INSERT (an executemany), whatever their number.
    inserts = [s for s in sent if s.startswith("INSERT INTO call_events")]
    assert 0 < len(inserts) <= 5 < len(events), (len(inserts), len(events))


def _writes_of_calls(sent: list[str]) -> list[str]:
    return [s for s in sent if s.startswith("UPDATE calls")]


def test_a_step_reads_its_call_once_and_writes_it_once_guarded_by_its_step_number(
    phone: TestClient, loaded: AppContext
) -> None:
    call = Caller(phone, RADIO)
    call.start()
    for digits in ("3", "7", "", "1"):
        with statements(loaded.engine) as sent:
            call.press(digits)
        updates = _writes_of_calls(sent)
        # One UPDATE of the row, which moves `seq` on only from the step's own number.
        assert len(updates) == 1, sent
        assert "calls.seq" in updates[0].split(" WHERE ", 1)[1], updates[0]
        # The interaction row (language, PSA code) is updated in place, never read first.
        assert not [s for s in sent if s.startswith("SELECT") and "FROM interactions" in s]
        # One read: the call row, locked, with the registry's token (not a SELECT of its own).
        reads = [s for s in sent if s.startswith("SELECT")]
        assert len(reads) == 1 and "FROM calls" in reads[0], reads
        assert "FROM registry_version" in reads[0], reads
    stored, events = record(loaded, call.sid)
    assert stored.seq == 5 and stored.language == "en" and stored.events == len(events)
    with loaded.sessions() as session:
        interaction = session.scalar(
            select(Interaction).where(Interaction.external_sid == call.sid)
        )
        assert interaction is not None
        assert (interaction.language, interaction.campaign_id) == ("en", stored.campaign_id)

    # A retry of the last step answers the cached TwiML and writes nothing.
    with statements(loaded.engine) as sent:
        again = call.retry()
    assert again == stored.last_twiml and not _writes_of_calls(sent)


def test_a_new_call_reads_its_line_and_the_registry_in_one_statement_and_inserts_its_sid(
    phone: TestClient, loaded: AppContext
) -> None:
    Caller(phone, RADIO, sid="CA" + "1" * 32).start()  # the registry's snapshot is read once
    call = Caller(phone, RADIO)
    with statements(loaded.engine) as sent:
        first = call.start()
    selects = [s for s in sent if s.startswith("SELECT")]
    # The campaign, its number, the flow attached to it and the registry's token: one statement.
    assert len(selects) == 1 and "FROM campaigns" in selects[0], selects
    assert "FROM registry_version" in selects[0], selects
    # The CallSid is not looked up before the call is recorded: its unique key finds a retry,
    # by an INSERT that does nothing on conflict (no savepoint to catch an IntegrityError).
    assert not [s for s in sent if s.startswith("SELECT") and "FROM calls" in s]
    assert not [s for s in sent if s.startswith(("SAVEPOINT", "RELEASE"))], sent
    written = [s for s in sent if s.startswith("INSERT INTO calls")]
    assert len(written) == 1 and "ON CONFLICT" in written[0], written
    # The insert counts the events the first step appends: no UPDATE of the call follows it.
    assert not _writes_of_calls(sent), sent
    with statements(loaded.engine) as again:
        assert call.retry() == first
    # Its record's insert, refused by the unique key, is what finds it.
    inserts = [i for i, s in enumerate(again) if s.startswith("INSERT INTO")]
    reads = [i for i, s in enumerate(again) if s.startswith("SELECT") and "FROM calls" in s]
    assert inserts and reads and inserts[0] < reads[0], again
    stored, events = record(loaded, call.sid)
    assert stored.seq == 1 and stored.last_twiml == first
    assert events and stored.events == len(events), (stored.events, events)
