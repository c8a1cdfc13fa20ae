# ruff: noqa: F811 (the `web` fixture imported from tests.support.reports)
"""Users in the browser: managers create, disable, reset and issue tokens; sessions end; every
change is in the audit log (never a password or token); viewers can do none of it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from campaigns.audit.models import AuditEntry
from outreach.core.context import AppContext
from outreach.web.auth.models import Role, User
from tests.support.reports import PASSWORD, csrf_of, login, make_user, web  # noqa: F401


@pytest.fixture
def manager(loaded: AppContext, web: TestClient) -> TestClient:
    make_user(loaded, "maria", Role.MANAGER)
    assert login(web, "maria").status_code == 303
    return web


@pytest.fixture
def other(app: Any) -> Iterator[TestClient]:
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as c:
        yield c


def user_id(ctx: AppContext, username: str) -> int:
    with ctx.sessions() as session:
        row = session.scalar(select(User).where(User.username == username))
        assert row is not None
        return row.id


def csrf(client: TestClient) -> str:
    return csrf_of(client.get("/dashboard/users").text)


def logged_in(client: TestClient) -> bool:
    return client.get("/dashboard", follow_redirects=False).status_code == 200


def test_a_manager_creates_a_user_who_can_log_in(
    loaded: AppContext, manager: TestClient, other: TestClient
) -> None:
    form = {
        "csrf_token": csrf(manager),
        "username": "nigar",
        "password": PASSWORD,
        "role": "viewer",
        "language": "az",
    }
    page = manager.post("/dashboard/users", data=form)
    assert page.status_code == 200 and "created nigar" in page.text
    assert login(other, "nigar").status_code == 303 and logged_in(other)


def test_a_refused_user_keeps_what_was_typed(manager: TestClient) -> None:
    form = {"csrf_token": csrf(manager), "username": "nigar", "password": "short", "role": "viewer"}
    page = manager.post("/dashboard/users", data=form)
    assert page.status_code == 422
    assert "at least 8 characters" in page.text and 'value="nigar"' in page.text


@pytest.mark.parametrize(
    ("path", "data"),
    [("active", {"active": "false"}), ("password", {"password": "a-new-password"})],
)
def test_disabling_or_resetting_ends_the_users_sessions(
    loaded: AppContext, manager: TestClient, other: TestClient, path: str, data: dict[str, str]
) -> None:
    make_user(loaded, "vera", Role.VIEWER)
    login(other, "vera")
    assert logged_in(other)
    uid = user_id(loaded, "vera")
    assert (
        manager.post(
            f"/dashboard/users/{uid}/{path}", data={**data, "csrf_token": csrf(manager)}
        ).status_code
        == 200
    )
    assert not logged_in(other)


def test_tokens_are_issued_once_work_and_are_revoked(
    loaded: AppContext, manager: TestClient
) -> None:
    make_user(loaded, "script", Role.VIEWER)
    uid = user_id(loaded, "script")
    page = manager.post(
        f"/dashboard/users/{uid}/tokens", data={"csrf_token": csrf(manager), "name": "nightly"}
    )
    token = page.text.split('data-testid="token">')[1].split("<")[0]
    api = {"Authorization": f"Bearer {token}"}
    assert manager.get("/api/campaigns", headers=api).status_code == 200
    with loaded.sessions() as session:
        token_ids = [t.id for t in session.get(User, uid).tokens if t.name == "nightly"]  # type: ignore[union-attr]
    manager.post(
        f"/dashboard/users/{uid}/tokens/{token_ids[0]}/revoke", data={"csrf_token": csrf(manager)}
    )
    assert manager.get("/api/campaigns", headers=api).status_code == 401
    with loaded.sessions() as session:
        stored = " ".join(f"{e.before} {e.after}" for e in session.scalars(select(AuditEntry)))
    assert token not in stored and "nightly" in stored


def test_user_changes_are_in_the_audit_log_without_passwords(
    loaded: AppContext, manager: TestClient
) -> None:
    make_user(loaded, "vera", Role.VIEWER)
    uid = user_id(loaded, "vera")
    manager.post(
        f"/dashboard/users/{uid}/password",
        data={"csrf_token": csrf(manager), "password": "secret-words-9"},
    )
    manager.post(
        f"/dashboard/users/{uid}/active", data={"csrf_token": csrf(manager), "active": "false"}
    )
    page = manager.get("/dashboard/audit", params={"kind": "user", "target": "vera"})
    assert page.status_code == 200
    assert "reset password" in page.text and "disable" in page.text and "maria" in page.text
    assert "secret-words-9" not in page.text
    with loaded.sessions() as session:
        rows = list(session.scalars(select(AuditEntry).where(AuditEntry.target == "vera")))
    assert [(r.action, r.interface) for r in rows] == [
        ("reset password", "browser"),
        ("disable", "browser"),
    ]
    assert rows[1].before == {"active": True} and rows[1].after == {"active": False}
    assert "secret-words-9" not in str([(r.before, r.after) for r in rows])
    assert (
        "vera"
        not in manager.get("/dashboard/audit", params={"interface": "api"}).text.split("<tbody>")[1]
    )


def test_a_viewer_cannot_see_users_or_the_audit_log_nor_forge_a_change(
    loaded: AppContext, web: TestClient
) -> None:
    make_user(loaded, "vera", Role.VIEWER)
    login(web, "vera")
    assert web.get("/dashboard/users").status_code == 403
    assert web.get("/dashboard/audit").status_code == 403
    token = csrf_of(web.get("/dashboard/me").text)
    forged = {"csrf_token": token, "username": "evil", "password": PASSWORD, "role": "manager"}
    assert web.post("/dashboard/users", data=forged).status_code == 403
    with loaded.sessions() as session:
        assert session.scalar(select(User).where(User.username == "evil")) is None


def test_each_user_chooses_the_interface_language(loaded: AppContext, manager: TestClient) -> None:
    token = csrf_of(manager.get("/dashboard/me").text)
    manager.post("/dashboard/me/language", data={"csrf_token": token, "language": "ru"})
    page = manager.get("/dashboard/me")
    assert '<html lang="ru">' in page.text
    with loaded.sessions() as session:
        assert session.scalar(select(User.language).where(User.username == "maria")) == "ru"
