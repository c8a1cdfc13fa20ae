# ruff: noqa: F811 (pytest fixtures imported from report_helpers)
"""Login throttling: repeated failures per (address, username), or per username across
addresses, get 429 until the window passes; the state is in the database, bounded."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, insert, select

from outreach.app import create_app
from outreach.core.context import AppContext
from outreach.web.auth.models import LoginThrottleEntry, Role
from outreach.web.auth.throttle import LoginThrottle
from tests.support.followups import Clock
from tests.support.privacy_scan import database_text
from tests.support.reports import PASSWORD, csrf_of, login, make_user, web  # noqa: F401

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


def _from(app: Any, address: str) -> TestClient:
    """A browser connecting from this address."""
    return TestClient(
        app, base_url="https://testserver", client=(address, 50000), raise_server_exceptions=False
    )


def _rows(ctx: AppContext) -> int:
    with ctx.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(LoginThrottleEntry)) or 0)


def test_a_username_is_limited_across_addresses(app: Any, clock: Clock, ctx: AppContext) -> None:
    assert (ctx.settings.login_max_failures, ctx.settings.login_user_max_failures) == (5, 20)
    for n in range(5):  # 4 failures from each of 5 addresses: none reaches its own limit
        _fail(_from(app, f"198.51.100.{n}"), 4)
    refused = login(_from(app, "198.51.100.99"), "ana", PASSWORD)
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "900"
    clock.now = START + timedelta(seconds=900)
    assert login(_from(app, "198.51.100.99"), "ana", PASSWORD).status_code == 303


def test_successful_logins_do_not_count_against_the_username(
    app: Any, clock: Clock, ctx: AppContext
) -> None:
    for n in range(25):  # more logins than the username limit, each from its own address
        assert login(_from(app, f"198.51.100.{n}"), "ana", PASSWORD).status_code == 303


def test_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy(
    app: Any, clock: Clock
) -> None:
    direct = _from(app, "127.0.0.1")
    for n in range(5):
        spoofed = {"X-Forwarded-For": f"203.0.113.{n}"}
        page = direct.get("/login")
        assert login_with(direct, page, WRONG, headers=spoofed).status_code == 401
    assert login(direct, "ana", PASSWORD).status_code == 429


def test_addresses_forwarded_by_a_trusted_proxy_are_told_apart(ctx: AppContext) -> None:
    ctx.settings = ctx.settings.model_copy(update={"trusted_proxies": "10.0.0.0/8, ::1"})
    ctx.clock = Clock(START)
    make_user(ctx, "ana", Role.VIEWER)
    proxy = _from(create_app(ctx=ctx, migrate=False, start_background=False), "10.1.2.3")
    # nginx appends the address it saw; anything to its left came from the client.
    blocked = {"X-Forwarded-For": "192.0.2.55, 203.0.113.7"}
    for _ in range(5):
        page = proxy.get("/login")
        assert login_with(proxy, page, WRONG, headers=blocked).status_code == 401
    page = proxy.get("/login")
    assert login_with(proxy, page, PASSWORD, headers=blocked).status_code == 429
    other = {"X-Forwarded-For": "192.0.2.55, 203.0.113.8"}  # same spoofed left part
    page = proxy.get("/login")
    assert login_with(proxy, page, PASSWORD, headers=other).status_code == 303


def test_bad_trusted_proxies_setting_is_refused_at_start(ctx: AppContext) -> None:
    with pytest.raises(ValueError, match="OUTREACH_TRUSTED_PROXIES"):
        type(ctx.settings)(trusted_proxies="nginx.local")


def test_a_blocked_key_stays_blocked_however_many_others_fail(
    web: TestClient, clock: Clock, ctx: AppContext
) -> None:
    _fail(web, 5)
    # Failures of 20,000 other (address, username) pairs in the same window.
    rows = [{"key": f"{n:064x}", "attempts": 1, "window_start": START} for n in range(20_000)]
    with ctx.sessions.begin() as session:
        session.execute(insert(LoginThrottleEntry), rows)
    LoginThrottle(ctx).attempt(client="192.0.2.1", username="someone", now=START)
    assert login(web, "ana", PASSWORD).status_code == 429


def test_rows_whose_window_passed_are_deleted(
    web: TestClient, clock: Clock, ctx: AppContext
) -> None:
    throttle = LoginThrottle(ctx)
    for n in range(50):
        throttle.attempt(client=f"192.0.2.{n}", username=f"user{n}", now=START)
    assert _rows(ctx) == 100  # a row per (address, username) and one per username
    later = START + timedelta(seconds=900)
    throttle.attempt(client="192.0.2.200", username="late", now=later)
    assert _rows(ctx) == 2


def test_the_table_holds_neither_usernames_nor_addresses(
    app: Any, clock: Clock, ctx: AppContext
) -> None:
    _fail(_from(app, "198.51.100.77"), 2, username="Someone.Secret")
    stored = database_text(ctx).lower()
    assert "someone.secret" not in stored and "198.51.100.77" not in stored


def login_with(client: TestClient, page: Any, password: str, **kw: Any) -> Any:
    return client.post(
        "/login",
        data={
            "username": "ana",
            "password": password,
            "csrf_token": csrf_of(page.text),
            "next": "/dashboard",
        },
        follow_redirects=False,
        **kw,
    )
