"""Issue 9.9: Twilio's call status callbacks arrive late, twice and out of order."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from outreach.core.context import AppContext
from tests.support.voice import OPEN, RADIO, Caller, record


@pytest.fixture
def phone(loaded: AppContext, client: TestClient) -> Iterator[TestClient]:
    loaded.clock = lambda: OPEN
    yield client


def test_a_late_ringing_does_not_move_a_completed_call_back(
    phone: TestClient, loaded: AppContext
) -> None:
    call = Caller(phone, RADIO)
    call.start()
    assert call.status("in-progress", 0) == 204
    assert call.status("completed", 42) == 204
    assert call.status("ringing", 0) == 204
    stored, _ = record(loaded, call.sid)
    assert (stored.status, stored.duration_seconds, stored.outcome) == ("completed", 42, "hung_up")


def test_a_repeated_completed_keeps_the_known_duration(
    phone: TestClient, loaded: AppContext
) -> None:
    call = Caller(phone, RADIO)
    call.start()
    call.status("completed", 42)
    call.status("completed", 0)
    stored, events = record(loaded, call.sid)
    assert stored.duration_seconds == 42
    assert [e.kind for e in events].count("ended") == 1


def test_statuses_move_forward_and_the_first_final_one_stays(
    phone: TestClient, loaded: AppContext
) -> None:
    call = Caller(phone, RADIO)
    call.start()
    seen = []
    for status in ("ringing", "in-progress", "ringing", "completed", "failed", "in-progress"):
        call.status(status, 7)
        stored, _ = record(loaded, call.sid)
        seen.append(stored.status)
    assert seen == ["ringing", "in-progress", "in-progress", "completed", "completed", "completed"]
