"""Issue 9.3: a database that does not answer (a table locked by another connection).

Twilio gives up on a webhook after 15 s. With the database locked, each webhook must still
answer within that time (the apology for SMS and voice), and nothing already recorded may be
lost: the request's own work is rolled back and done when the message comes again.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, select, text

from campaigns.registry.models import Interaction
from campaigns.registry.service import load_file
from campaigns.voice.models import Call, CallEvent
from outreach.app import create_app
from outreach.core.context import AppContext
from outreach.core.db import upgrade_schema
from tests.support.app import DEMO_FILE, make_settings, signed_post
from tests.support.followups import Clock
from tests.support.voice import OPEN, RADIO, Caller

TWILIO_TIMEOUT = 15.0
NEWS = "+994502000101"
TEXTER = "+994551112233"


@pytest.fixture
def quick(database_url: str) -> Iterator[AppContext]:
    """The demo campaigns behind a database whose waits are bounded at half a second."""
    settings = make_settings(database_url, db_lock_timeout_seconds=0.5)
    ctx = AppContext.from_settings(settings)
    upgrade_schema(ctx.engine)
    with ctx.sessions.begin() as session:
        load_file(session, DEMO_FILE)
    ctx.clock = Clock(OPEN)
    yield ctx
    ctx.engine.dispose()


@pytest.fixture
def phone(quick: AppContext) -> Iterator[TestClient]:
    with TestClient(create_app(ctx=quick, migrate=False, start_background=False)) as client:
        yield client


@contextmanager
def locked(ctx: AppContext, table: str) -> Iterator[None]:
    """Holds a lock from another connection: the whole database on SQLite, `table` else."""
    url = ctx.engine.url
    if url.get_backend_name() == "sqlite":
        other = sqlite3.connect(str(url.database), isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            other.execute("ROLLBACK")
            other.close()
        return
    engine = create_engine(url.render_as_string(hide_password=False))
    with engine.connect() as conn:
        conn.execute(text(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"))
        try:
            yield
        finally:
            conn.rollback()
    engine.dispose()


def while_locked(ctx: AppContext, table: str, request: Any) -> tuple[bool, Any]:
    """Sends `request()` while `table` is locked; returns (answered within 15 s, response)."""
    answers: list[Any] = []
    with locked(ctx, table):
        worker = threading.Thread(target=lambda: answers.append(request()))
        worker.start()
        worker.join(TWILIO_TIMEOUT)
        in_time = not worker.is_alive()
    worker.join()
    return in_time, answers[0]


def sms(body: str, n: int) -> dict[str, str]:
    return {"MessageSid": f"SM{n:032x}", "From": TEXTER, "To": NEWS, "Body": body}


def interactions(ctx: AppContext) -> list[str]:
    with ctx.sessions() as session:
        return list(session.scalars(select(Interaction.external_sid).order_by(Interaction.id)))


def test_an_sms_gets_the_apology_in_time_and_loses_nothing(
    phone: TestClient, quick: AppContext
) -> None:
    first = signed_post(phone, "/twilio/sms", sms("news", 1))
    assert "Reply YES for more" in first.text
    in_time, response = while_locked(
        quick, "interactions", lambda: signed_post(phone, "/twilio/sms", sms("work", 2))
    )
    assert in_time, "no answer within Twilio's 15 s"
    assert response.status_code == 200
    assert "Sorry, we could not process your message right now" in response.text
    assert interactions(quick) == [sms("", 1)["MessageSid"]]
    # Twilio or the texter sends it again once the database answers: handled, counted once.
    again = signed_post(phone, "/twilio/sms", sms("work", 2))
    assert "Work abroad?" in again.text
    assert interactions(quick) == [sms("", 1)["MessageSid"], sms("", 2)["MessageSid"]]


def test_a_voice_step_gets_the_apology_in_time_and_the_call_stays_as_it_was(
    phone: TestClient, quick: AppContext
) -> None:
    call = Caller(phone, RADIO)
    call.start()
    call.press("3")
    before = _call_state(quick, call.sid)
    in_time, response = while_locked(
        quick, "calls", lambda: signed_post(phone, call.action(), call.form(Digits="5"))
    )
    assert in_time, "no answer within Twilio's 15 s"
    assert response.status_code == 200
    assert "Sorry, something went wrong" in response.text and "<Hangup" in response.text
    assert _call_state(quick, call.sid) == before


def test_status_callbacks_are_acknowledged_in_time(phone: TestClient, quick: AppContext) -> None:
    call = Caller(phone, RADIO)
    call.start()
    in_time, response = while_locked(
        quick,
        "calls",
        lambda: signed_post(
            phone, "/twilio/voice/status", call.form(CallStatus="completed", CallDuration="9")
        ),
    )
    assert in_time and response.status_code == 204
    form = {"MessageSid": "SM" + "9" * 32, "MessageStatus": "delivered"}
    in_time, response = while_locked(
        quick, "followup_outbox", lambda: signed_post(phone, "/twilio/sms/status", form)
    )
    assert in_time and response.status_code == 200


def test_default_waits_fit_in_twilios_timeout() -> None:
    """An attempt, its retry and recording the failure each wait at most the lock timeout."""
    settings = make_settings("sqlite://")
    assert 3 * settings.db_lock_timeout_seconds < TWILIO_TIMEOUT
    assert settings.db_statement_timeout_seconds < TWILIO_TIMEOUT


def _call_state(ctx: AppContext, sid: str) -> tuple[int, str | None, int]:
    with ctx.sessions() as session:
        call = session.scalars(select(Call).where(Call.call_sid == sid)).one()
        events = session.scalar(select(func.count()).where(CallEvent.call_id == call.id))
        return call.seq, call.outcome, int(events or 0)
