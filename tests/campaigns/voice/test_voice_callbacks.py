"""Missed-call callbacks: reject, call back through the gateway, limit per day, erase the number."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from campaigns.registry.models import Interaction
from campaigns.voice.callbacks import place_callback, retry_pending_callbacks
from campaigns.voice.models import UNANSWERED_CALLBACKS, Call, CallCallback
from outreach.core.context import AppContext
from outreach.core.gateway import GatewayError
from tests.support.app import PUBLIC_URL, signed_post
from tests.support.voice import CALLER, OPEN, TV, Caller, FakeGateway, record, verbs


@pytest.fixture
def gateway(loaded: AppContext) -> FakeGateway:
    fake = FakeGateway()
    loaded.gateway = fake
    loaded.clock = lambda: OPEN
    return fake


@pytest.fixture
def phone(gateway: FakeGateway, client: TestClient) -> Iterator[TestClient]:
    yield client


def callbacks(ctx: AppContext) -> list[CallCallback]:
    with ctx.sessions() as session:
        rows = list(session.scalars(select(CallCallback).order_by(CallCallback.id)))
        session.expunge_all()
    return rows


def test_missed_call_is_rejected_and_called_back(
    phone: TestClient, gateway: FakeGateway, loaded: AppContext
) -> None:
    call = Caller(phone, TV)
    call.start()
    assert [(v.tag, v.get("reason")) for v in verbs(call.twiml)] == [("Reject", "busy")]
    assert gateway.calls == [
        {
            "to": CALLER,
            "from_": TV,
            "url": f"{PUBLIC_URL}/twilio/voice",
            "status_callback": f"{PUBLIC_URL}/twilio/voice/status",
        }
    ]
    [row] = callbacks(loaded)
    assert row.status == "placed" and row.sealed_number is None and row.call_sid
    assert row.contact_id == loaded.contact_id(CALLER)
    with loaded.sessions() as session:
        kinds = session.scalars(
            select(Interaction.kind).where(Interaction.external_sid == call.sid)
        )
        assert list(kinds) == ["missed_call"]


def test_the_callback_runs_the_campaign_flow(phone: TestClient, loaded: AppContext) -> None:
    back = Caller(phone, CALLER, caller=TV)  # outbound: From is our number, To the caller
    back.post("/twilio/voice", back.form(Direction="outbound-api", CallStatus="in-progress"))
    assert verbs(back.twiml)[0].tag == "Gather"
    back.post(back.action(), back.form(Direction="outbound-api", Digits="3"))
    stored, _ = record(loaded, back.sid)
    assert stored.direction == "callback" and stored.number == TV
    assert stored.contact_id == loaded.contact_id(CALLER) and stored.language == "en"


def test_callbacks_are_limited_per_caller_per_day(
    phone: TestClient, gateway: FakeGateway, loaded: AppContext
) -> None:
    limit = loaded.settings.callbacks_per_day
    for _ in range(limit + 2):
        call = Caller(phone, TV)
        call.start()
        assert verbs(call.twiml)[0].tag == "Reject"
    assert len(gateway.calls) == limit
    rows = callbacks(loaded)
    assert [str(r.status) for r in rows].count("limited") == 2
    assert all(r.sealed_number is None for r in rows)
    other = Caller(phone, TV, caller="+994551112233")
    other.start()
    assert len(gateway.calls) == limit + 1


def test_a_retried_missed_call_places_one_callback(
    phone: TestClient, gateway: FakeGateway, loaded: AppContext
) -> None:
    call = Caller(phone, TV)
    call.start()
    call.retry()
    assert len(gateway.calls) == 1 and len(callbacks(loaded)) == 1


def test_a_permanent_gateway_error_erases_the_number(
    phone: TestClient, gateway: FakeGateway, loaded: AppContext
) -> None:
    gateway.error = GatewayError("invalid number", code=21211, status=400, permanent=True)
    Caller(phone, TV).start()
    [row] = callbacks(loaded)
    assert row.status == "failed" and row.sealed_number is None and row.error == "21211"


def test_a_transient_gateway_error_keeps_the_number_sealed_for_a_retry(
    phone: TestClient, gateway: FakeGateway, loaded: AppContext
) -> None:
    gateway.error = GatewayError("timeout", status=503, permanent=False)
    Caller(phone, TV).start()
    [row] = callbacks(loaded)
    assert row.status == "pending" and row.sealed_number
    assert CALLER not in row.sealed_number
    assert loaded.vault.open(row.sealed_number) == CALLER
    gateway.error = None
    assert retry_pending_callbacks(loaded) == 1
    [row] = callbacks(loaded)
    assert row.status == "placed" and row.sealed_number is None and row.attempts == 2


def test_a_stale_pending_callback_is_given_up_and_erased(
    phone: TestClient, gateway: FakeGateway, loaded: AppContext
) -> None:
    gateway.error = GatewayError("timeout", status=503, permanent=False)
    Caller(phone, TV).start()
    gateway.error = None
    loaded.clock = lambda: OPEN + timedelta(hours=2)
    assert retry_pending_callbacks(loaded) == 0
    [row] = callbacks(loaded)
    assert row.status == "failed" and row.error == "expired" and row.sealed_number is None
    assert len(gateway.calls) == 1


def callback_status(phone: TestClient, row: CallCallback, status: str) -> int:
    """Posts Twilio's status callback for the placed callback's own CallSid."""
    assert row.call_sid
    back = Caller(phone, CALLER, caller=TV, sid=row.call_sid)  # outbound: From is our number
    response = signed_post(
        phone,
        "/twilio/voice/status",
        back.form(Direction="outbound-api", CallStatus=status, CallDuration="0"),
    )
    return int(response.status_code)


@pytest.mark.parametrize(
    ("twilio_status", "stored"),
    [
        ("no-answer", "no_answer"),
        ("busy", "busy"),
        ("failed", "call_failed"),
        ("canceled", "canceled"),
    ],
)
def test_a_callback_nobody_answers_is_recorded_on_its_row(
    phone: TestClient, loaded: AppContext, twilio_status: str, stored: str
) -> None:
    Caller(phone, TV).start()
    [row] = callbacks(loaded)
    assert callback_status(phone, row, twilio_status) == 204
    [row] = callbacks(loaded)
    assert row.status == stored and row.status in UNANSWERED_CALLBACKS
    assert row.sealed_number is None
    with loaded.sessions() as session:
        assert session.scalar(select(Call).where(Call.call_sid == row.call_sid)) is None


def test_an_answered_callback_is_recorded_as_answered(
    phone: TestClient, loaded: AppContext
) -> None:
    Caller(phone, TV).start()
    [row] = callbacks(loaded)
    assert row.call_sid
    back = Caller(phone, CALLER, caller=TV, sid=row.call_sid)
    back.post("/twilio/voice", back.form(Direction="outbound-api", CallStatus="in-progress"))
    assert callback_status(phone, row, "completed") == 204
    [row] = callbacks(loaded)
    assert row.status == "answered" and row.status not in UNANSWERED_CALLBACKS
    stored, _ = record(loaded, back.sid)
    assert stored.status == "completed" and stored.outcome == "hung_up"


def test_a_late_or_repeated_status_does_not_change_a_callbacks_outcome(
    phone: TestClient, loaded: AppContext
) -> None:
    Caller(phone, TV).start()
    [row] = callbacks(loaded)
    for status in ("no-answer", "no-answer", "ringing", "completed"):
        assert callback_status(phone, row, status) == 204
    [row] = callbacks(loaded)
    assert row.status == "no_answer"


def test_a_ringing_callback_stays_placed(phone: TestClient, loaded: AppContext) -> None:
    Caller(phone, TV).start()
    [row] = callbacks(loaded)
    assert callback_status(phone, row, "ringing") == 204
    [row] = callbacks(loaded)
    assert row.status == "placed"


class ProbingGateway(FakeGateway):
    """While it places a call, checks from another thread that nothing holds a lock: an
    UPDATE of the callback's own row (PostgreSQL: its row lock; SQLite: the write lock)."""

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.seen: list[tuple[str, bool]] = []

    def place_call(self, **kw: Any) -> str:
        callback_id = callbacks(self.ctx)[-1].id
        with self.ctx.sessions() as session:
            status = session.scalar(
                select(CallCallback.status).where(CallCallback.id == callback_id)
            )
        done = threading.Event()

        def probe() -> None:
            with self.ctx.sessions.begin() as session:
                session.execute(
                    update(CallCallback)
                    .where(CallCallback.id == callback_id)
                    .values(error=CallCallback.error)
                )
            done.set()

        thread = threading.Thread(target=probe, daemon=True)
        thread.start()
        self.seen.append((str(status), done.wait(timeout=3)))
        thread.join()
        return super().place_call(**kw)


def test_no_transaction_is_held_while_the_gateway_places_the_call(
    client: TestClient, loaded: AppContext
) -> None:
    gateway = ProbingGateway(loaded)
    loaded.gateway, loaded.clock = gateway, lambda: OPEN
    Caller(client, TV).start()
    # The claim was committed before the call, and another writer did not wait for it.
    assert gateway.seen == [("placing", True)]
    [row] = callbacks(loaded)
    assert row.status == "placed" and row.sealed_number is None and row.claimed_until is None


def pending_callback(phone: TestClient, gateway: FakeGateway, ctx: AppContext) -> CallCallback:
    """A missed call whose callback Twilio refused for a passing reason: pending, one attempt."""
    gateway.error = GatewayError("timeout", status=503, permanent=False)
    Caller(phone, TV).start()
    gateway.error = None
    [row] = callbacks(ctx)
    assert row.status == "pending" and row.attempts == 1
    return row


def test_a_claim_is_placed_again_only_once_its_lease_is_over(
    phone: TestClient, gateway: FakeGateway, loaded: AppContext
) -> None:
    row = pending_callback(phone, gateway, loaded)
    lease = timedelta(seconds=loaded.settings.dispatch_lease_seconds)
    with loaded.sessions.begin() as session:  # a worker claimed it, then died mid-call
        claimed = session.get(CallCallback, row.id)
        assert claimed is not None
        claimed.status, claimed.claimed_until = "placing", OPEN + lease
    assert retry_pending_callbacks(loaded) == 0  # its lease still runs
    assert len(gateway.calls) == 1
    loaded.clock = lambda: OPEN + lease + timedelta(seconds=1)
    assert retry_pending_callbacks(loaded) == 1
    [row] = callbacks(loaded)
    assert row.status == "placed" and row.sealed_number is None and len(gateway.calls) == 2


def test_twenty_workers_place_one_callback_once(
    phone: TestClient, gateway: FakeGateway, loaded: AppContext
) -> None:
    row = pending_callback(phone, gateway, loaded)
    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = list(pool.map(lambda _: place_callback(loaded, row.id), range(20)))
    assert len(gateway.calls) == 2  # the first (failed) try, then one of the twenty
    assert sorted(map(str, outcomes)).count("placed") == 1
    [row] = callbacks(loaded)
    assert row.status == "placed" and row.attempts == 2
