# ruff: noqa: F811 (pytest fixtures imported from report_helpers)
"""Login throttling: repeated failures per (IP, username) get 429 until the window passes."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from outreach.core.context import AppContext
from outreach.web.auth.models import Role
from outreach.web.auth.throttle import LoginThrottle
from tests.support.followups import Clock
from tests.support.reports import PASSWORD, login, make_user, web  # noqa: F401

START = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
WRONG = "not the password"


@pytest.fixture
def clock(ctx: AppContext) -> Clock:
    ctx.clock = clock = Clock(START)
    make_user(ctx, "ana", Role.VIEWER)
    return clock


def _fail(client: TestClient, times: int, username: str = "ana") -> None:
    for _ in range(times):
        assert login(client, username, WRONG).status_code == 401


def test_five_failures_then_429_even_with_the_right_password(
    web: TestClient, clock: Clock, ctx: AppContext
) -> None:
    assert ctx.settings.login_max_failures == 5
    _fail(web, 5)
    refused = login(web, "ana", PASSWORD)
    assert refused.status_code == 429
    assert "Too many failed logins. Try again in 15 minute(s)." in refused.text
    assert refused.headers["retry-after"] == "900"
    assert "uid" not in web.cookies.get("session", "")
    assert login(web, "ana", WRONG).status_code == 429


def test_after_the_window_the_right_password_logs_in(web: TestClient, clock: Clock) -> None:
    _fail(web, 5)
    clock.now = START + timedelta(seconds=899)
    assert login(web, "ana", PASSWORD).status_code == 429
    clock.now = START + timedelta(seconds=901)
    response = login(web, "ana", PASSWORD)
    assert response.status_code == 303 and response.headers["location"] == "/dashboard"


def test_a_successful_login_resets_the_failure_count(web: TestClient, clock: Clock) -> None:
    _fail(web, 4)
    assert login(web, "ana", PASSWORD).status_code == 303
    _fail(web, 4)  # four more would be nine in the window without the reset
    assert login(web, "ana", PASSWORD).status_code == 303


def test_another_username_from_the_same_ip_is_not_blocked(
    web: TestClient, clock: Clock, ctx: AppContext
) -> None:
    make_user(ctx, "ben", Role.VIEWER)
    _fail(web, 5)
    assert login(web, "ana", PASSWORD).status_code == 429
    assert login(web, "ben", PASSWORD).status_code == 303


def test_the_password_is_never_logged(
    web: TestClient, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        _fail(web, 5)
        assert login(web, "ana", PASSWORD).status_code == 429
    logged = " ".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "login throttled" in logged
    assert WRONG not in logged and PASSWORD not in logged


def test_memory_stays_bounded_and_expired_entries_are_evicted() -> None:
    throttle = LoginThrottle(max_failures=5, window_seconds=900, max_entries=100)
    for n in range(1000):
        throttle.failed((f"10.0.{n // 256}.{n % 256}", "ana"), now=START)
    assert len(throttle) == 100
    throttle.failed(("10.9.9.9", "ana"), now=START + timedelta(seconds=901))
    assert len(throttle) == 1
