# ruff: noqa: F811 (pytest fixtures imported from report_helpers)
"""Login sessions live on the server: logout, password change and disable end them everywhere."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from outreach.cli import app as cli
from outreach.core.context import AppContext
from outreach.web.auth import service as auth
from outreach.web.auth.models import LoginSession, Role, User
from tests.support.followups import Clock
from tests.support.privacy_scan import database_text
from tests.support.reports import PASSWORD, csrf_of, login, make_user, web  # noqa: F401

NEW_PASSWORD = "a new long passphrase"


def _logged_in(web: TestClient, username: str) -> str:
    """Logs in and returns the session cookie's value (what a thief would copy)."""
    assert login(web, username).status_code == 303
    return web.cookies["outreach_session"]


def _stolen(app: Any, cookie: str) -> TestClient:
    """Another browser that presents a copy of a captured cookie."""
    thief = TestClient(app, base_url="https://testserver", raise_server_exceptions=False)
    thief.cookies.set("outreach_session", cookie)
    return thief


def _works(client: TestClient) -> bool:
    dashboard = client.get("/dashboard", follow_redirects=False).status_code
    api = client.get("/api/campaigns").status_code
    assert (dashboard == 200) == (api == 200), (dashboard, api)
    return dashboard == 200


def _cli(ctx: AppContext, *args: str) -> Any:
    env = {
        "OUTREACH_DATABASE_URL": ctx.settings.database_url,
        "OUTREACH_HASH_KEY": ctx.settings.hash_key,
        "OUTREACH_ENCRYPTION_KEY": ctx.settings.encryption_key,
        "OUTREACH_SESSION_SECRET": ctx.settings.session_secret,
        "TWILIO_AUTH_TOKEN": ctx.settings.twilio_auth_token,
        "OUTREACH_NEW_USER_PASSWORD": NEW_PASSWORD,
    }
    result = CliRunner().invoke(cli, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result


def test_a_cookie_captured_before_logout_is_refused_after(
    ctx: AppContext, app: Any, web: TestClient
) -> None:
    make_user(ctx, "ana", Role.VIEWER)
    cookie = _logged_in(web, "ana")
    thief = _stolen(app, cookie)
    assert _works(thief)
    page = web.get("/dashboard")
    assert web.post("/logout", data={"csrf_token": csrf_of(page.text)}).status_code == 200
    assert not _works(web)
    assert not _works(thief)  # the copy is refused on the dashboard and the API alike
    assert _works(_stolen(app, _logged_in(web, "ana")))  # logging in again works


def test_disabling_a_user_ends_their_sessions_and_enabling_does_not_revive_them(
    ctx: AppContext, app: Any, web: TestClient
) -> None:
    make_user(ctx, "ana", Role.VIEWER)
    cookie = _logged_in(web, "ana")
    _cli(ctx, "users", "disable", "ana")
    assert not _works(_stolen(app, cookie))
    assert login(web, "ana").status_code == 401
    _cli(ctx, "users", "enable", "ana")
    assert not _works(_stolen(app, cookie))  # ended, not just paused
    assert _works(_stolen(app, _logged_in(web, "ana")))


def test_a_password_change_ends_sessions_but_api_tokens_stay_until_revoked(
    ctx: AppContext, app: Any, web: TestClient
) -> None:
    token = make_user(ctx, "ana", Role.VIEWER)
    bearer = {"Authorization": f"Bearer {token}"}
    cookie = _logged_in(web, "ana")
    _cli(ctx, "users", "password", "ana")
    assert not _works(_stolen(app, cookie))
    assert login(web, "ana", PASSWORD).status_code == 401
    assert login(web, "ana", NEW_PASSWORD).status_code == 303
    assert web.get("/api/campaigns", headers=bearer).status_code == 200
    page = web.get("/dashboard")
    web.post("/logout", data={"csrf_token": csrf_of(page.text)})
    assert web.get("/api/campaigns", headers=bearer).status_code == 200  # logout keeps tokens
    assert "revoked 1 token(s)" in _cli(ctx, "users", "revoke-tokens", "ana").output
    assert web.get("/api/campaigns", headers=bearer).status_code == 401


def test_ending_a_users_sessions_ends_all_of_theirs_and_nobody_elses(
    ctx: AppContext, app: Any, web: TestClient
) -> None:
    make_user(ctx, "ana", Role.VIEWER)
    make_user(ctx, "boss", Role.MANAGER)
    ana = [_logged_in(web, "ana") for _ in range(2)]  # two browsers
    boss = _logged_in(web, "boss")
    assert "ended 2 session(s)" in _cli(ctx, "users", "logout", "ana").output
    assert not any(_works(_stolen(app, cookie)) for cookie in ana)
    assert _works(_stolen(app, boss))


def test_a_session_ends_after_eight_hours_on_the_server(
    ctx: AppContext, app: Any, web: TestClient
) -> None:
    start = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
    ctx.clock = clock = Clock(start)
    make_user(ctx, "ana", Role.VIEWER)
    cookie = _logged_in(web, "ana")
    clock.now = start + timedelta(hours=8, seconds=-1)
    assert _works(_stolen(app, cookie))
    clock.now = start + timedelta(hours=8)
    assert not _works(_stolen(app, cookie))  # however long the browser keeps the cookie


def test_the_cookie_holds_a_random_session_id_and_the_database_only_its_hash(
    ctx: AppContext, web: TestClient
) -> None:
    make_user(ctx, "ana", Role.VIEWER)
    cookie = _logged_in(web, "ana")
    payload = json.loads(base64.b64decode(cookie.split(".")[0] + "=="))
    assert set(payload) == {"sid", "csrf"}  # no user id a forged signature could name
    stored = database_text(ctx)
    assert payload["sid"] not in stored
    assert hashlib.sha256(payload["sid"].encode()).hexdigest() in stored


def test_expired_sessions_are_deleted_at_the_next_login(ctx: AppContext) -> None:
    make_user(ctx, "ana", Role.VIEWER)
    start = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
    with ctx.sessions.begin() as session:
        user = session.scalar(select(User).where(User.username == "ana"))
        assert user is not None
        for hour in range(10):
            auth.start_session(session, user=user, now=start + timedelta(hours=hour))
        live = session.scalar(select(func.count()).select_from(LoginSession))
    assert live == 8  # the two from nine and ten o'clock passed their eight hours


def test_login_and_logout_are_committed_before_the_answer_is_sent(
    ctx: AppContext, app: Any
) -> None:
    """A browser follows the redirect at once, maybe to another process: the session row must
    already be stored (login) or gone (logout) when the response starts."""
    make_user(ctx, "ana", Role.VIEWER)
    seen: dict[str, int] = {}

    async def probe(scope: Any, receive: Any, send: Any) -> None:
        async def send_and_look(message: Any) -> None:
            if message["type"] == "http.response.start" and scope["method"] == "POST":
                with ctx.sessions() as session:
                    count = select(func.count()).select_from(LoginSession)
                    seen[scope["path"]] = int(session.scalar(count) or 0)
            await send(message)

        await app(scope, receive, send_and_look)

    with TestClient(probe, base_url="https://testserver") as browser:
        assert login(browser, "ana").status_code == 303
        page = browser.get("/dashboard")
        assert browser.post("/logout", data={"csrf_token": csrf_of(page.text)}).status_code == 200
    assert seen == {"/login": 1, "/logout": 0}
