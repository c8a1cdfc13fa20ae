# ruff: noqa: F811 (pytest fixtures imported from report_helpers)
"""Access control: roles, argon2 passwords, signed session cookies, CSRF, hashed API tokens."""

from __future__ import annotations

import hashlib

from fastapi.testclient import TestClient
from sqlalchemy import select

from outreach.core.context import AppContext
from outreach.web.auth.models import ApiToken, Role, User
from outreach.web.auth.service import AuthError, authenticate, create_user
from tests.support.reports import PASSWORD, csrf_of, login, make_user, web  # noqa: F401


def test_unauthenticated_dashboard_goes_to_login_and_api_gets_401(web: TestClient) -> None:
    page = web.get("/dashboard/channels?from=2027-02-01", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=/dashboard/channels%3Ffrom%3D2027-02-01"
    for path in (
        "/api/reports/channels",
        "/api/campaigns",
        "/api/airings",
        "/api/campaigns/X/report",
        "/api/exports/summary.csv",
    ):
        response = web.get(path)
        assert response.status_code == 401, path
        assert response.headers["www-authenticate"] == "Bearer"


def test_passwords_are_stored_as_argon2id_hashes(ctx: AppContext) -> None:
    make_user(ctx, "ana", Role.VIEWER)
    with ctx.sessions() as session:
        user = session.scalar(select(User).where(User.username == "ana"))
        assert user is not None
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash
        assert authenticate(session, username="ana", password=PASSWORD) is not None
        assert authenticate(session, username="ana", password="wrong password") is None
        assert authenticate(session, username="nobody", password=PASSWORD) is None


def test_short_passwords_and_duplicate_users_are_refused(ctx: AppContext) -> None:
    make_user(ctx, "ana", Role.VIEWER)
    with ctx.sessions.begin() as session:
        for name, password in (("ben", "short"), ("ana", PASSWORD)):
            try:
                create_user(session, username=name, password=password, role=Role.VIEWER)
            except AuthError:
                continue
            raise AssertionError(f"{name} was accepted")


def test_api_tokens_are_stored_only_as_sha256(ctx: AppContext, web: TestClient) -> None:
    token = make_user(ctx, "script", Role.VIEWER)
    with ctx.sessions() as session:
        stored = session.scalars(select(ApiToken.token_hash)).all()
    assert stored == [hashlib.sha256(token.encode()).hexdigest()]
    assert (
        web.get("/api/campaigns", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    )
    assert (
        web.get("/api/campaigns", headers={"Authorization": "Bearer otk_nope"}).status_code == 401
    )


def test_login_sets_a_signed_httponly_cookie_and_wrong_password_is_401(
    ctx: AppContext, web: TestClient
) -> None:
    make_user(ctx, "ana", Role.VIEWER)
    bad = login(web, "ana", "not the password")
    assert bad.status_code == 401 and "Wrong username or password" in bad.text
    good = login(web, "ana")
    assert good.status_code == 303 and good.headers["location"] == "/dashboard"
    cookie = good.headers["set-cookie"]
    assert cookie.startswith("outreach_session=") and "httponly" in cookie.lower()
    assert "samesite=lax" in cookie.lower()
    assert web.get("/dashboard").status_code == 200
    # A tampered cookie is not a session.
    web.cookies.set("outreach_session", web.cookies["outreach_session"][:-4] + "AAAA")
    assert web.get("/dashboard", follow_redirects=False).status_code == 303


def test_session_cookie_is_secure_when_published_over_https(
    ctx: AppContext, web: TestClient
) -> None:
    make_user(ctx, "ana", Role.VIEWER)
    assert ctx.settings.public_url.startswith("https://")
    assert "secure" in login(web, "ana").headers["set-cookie"].lower()


def test_forms_without_the_csrf_token_are_refused(ctx: AppContext, web: TestClient) -> None:
    make_user(ctx, "boss", Role.MANAGER)
    web.get("/login")
    response = web.post("/login", data={"username": "boss", "password": PASSWORD})
    assert response.status_code == 403
    assert login(web, "boss").status_code == 303
    forged = web.post(
        "/dashboard/airings",
        data={
            "campaign": "X",
            "station": "Idman FM",
            "aired_at": "2027-02-01T08:00",
            "csrf_token": "forged",
        },
    )
    assert forged.status_code == 403
    # API writes riding on the cookie need the token in a header too.
    assert web.post("/api/airings", json={}).status_code == 403
    logout = web.post("/logout", data={"csrf_token": "nope"})
    assert logout.status_code == 403


def test_login_redirects_only_to_local_dashboard_paths(ctx: AppContext, web: TestClient) -> None:
    make_user(ctx, "ana", Role.VIEWER)
    page = web.get("/login?next=https://evil.example/")
    assert 'value="/dashboard"' in page.text
    response = web.post(
        "/login",
        data={
            "username": "ana",
            "password": PASSWORD,
            "csrf_token": csrf_of(page.text),
            "next": "//evil.example/x",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/dashboard"


def test_logout_ends_the_session(ctx: AppContext, web: TestClient) -> None:
    make_user(ctx, "ana", Role.VIEWER)
    login(web, "ana")
    page = web.get("/dashboard")
    assert (
        web.post(
            "/logout", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False
        ).status_code
        == 303
    )
    assert web.get("/dashboard", follow_redirects=False).status_code == 303


def test_viewers_cannot_edit_and_managers_can(loaded: AppContext, web: TestClient) -> None:
    viewer = {"Authorization": f"Bearer {make_user(loaded, 'ana', Role.VIEWER)}"}
    manager = {"Authorization": f"Bearer {make_user(loaded, 'boss', Role.MANAGER)}"}
    airing = {
        "campaign": "AZ-RADIO-IDMAN-2027",
        "station": "Idman FM",
        "aired_at": "2027-02-01T08:00:00+04:00",
        "duration_seconds": 30,
    }
    assert web.post("/api/airings", json=airing, headers=viewer).status_code == 403
    assert web.delete("/api/campaigns/AZ-POSTER-NAKH-2027", headers=viewer).status_code == 403
    assert web.post("/api/airings", json=airing, headers=manager).status_code == 201
    assert (
        web.get("/api/airings?from=2027-02-01&to=2027-02-01", headers=viewer).json()[0]["station"]
        == "Idman FM"
    )
    login(web, "ana")
    page = web.get("/dashboard/lift")
    assert "Record an airing" not in page.text
    forbidden = web.post("/dashboard/airings", data={**airing, "csrf_token": csrf_of(page.text)})
    assert forbidden.status_code == 403


def test_users_create_command_adds_a_user_and_prints_a_token(
    ctx: AppContext, monkeypatch: object
) -> None:
    from typer.testing import CliRunner

    from outreach.cli import app

    env = {
        "OUTREACH_DATABASE_URL": ctx.settings.database_url,
        "OUTREACH_HASH_KEY": ctx.settings.hash_key,
        "OUTREACH_ENCRYPTION_KEY": ctx.settings.encryption_key,
        "OUTREACH_SESSION_SECRET": ctx.settings.session_secret,
        "TWILIO_AUTH_TOKEN": ctx.settings.twilio_auth_token,
        "OUTREACH_NEW_USER_PASSWORD": PASSWORD,
    }
    result = CliRunner().invoke(
        app, ["users", "create", "mira", "--role", "manager", "--token", "ci"], env=env
    )
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert token.startswith("otk_")
    with ctx.sessions() as session:
        user = session.scalar(select(User).where(User.username == "mira"))
        assert user is not None and user.role == Role.MANAGER
    bad = CliRunner().invoke(app, ["users", "create", "x", "--role", "admin"], env=env)
    assert bad.exit_code == 2
