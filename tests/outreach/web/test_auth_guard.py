"""Unauthenticated writes to /api and /dashboard are refused before their body is read."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from outreach.core.context import AppContext
from outreach.web.auth.models import Role
from tests.support.asgi import BodyReads, app_with
from tests.support.reports import csrf_of, login, make_user

# Not even JSON: a route that parsed it first would answer 422 (FastAPI reads the body first).
BROKEN = b'{"code": "X", "name": '
WRITES = [
    ("POST", "/api/campaigns"),
    ("PUT", "/api/campaigns/AZ-RADIO-IDMAN-2027"),
    ("DELETE", "/api/campaigns/AZ-RADIO-IDMAN-2027"),
    ("POST", "/api/airings"),
    ("POST", "/api/airings/import"),
    ("DELETE", "/api/airings/1"),
]


@pytest.fixture
def reads(loaded: AppContext) -> BodyReads:
    return BodyReads(app_with(loaded))


@pytest.fixture
def anon(reads: BodyReads) -> TestClient:
    return TestClient(reads, base_url="https://testserver", raise_server_exceptions=False)


@pytest.mark.parametrize(("method", "path"), WRITES)
@pytest.mark.parametrize(
    "authorization", [None, "Bearer otk_not-a-token", "Bearer ", "Basic YTpi"], ids=str
)
def test_api_writes_without_valid_credentials_get_401_unread(
    anon: TestClient, reads: BodyReads, method: str, path: str, authorization: str | None
) -> None:
    headers = {"Content-Type": "application/json"}
    if authorization:
        headers["Authorization"] = authorization
    response = anon.request(method, path, content=BROKEN, headers=headers)
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == "Bearer"
    assert reads.messages == 0


@pytest.mark.parametrize(
    "path", ["/dashboard/airings", "/dashboard/campaigns/AZ-RADIO-IDMAN-2027", "/dashboard"]
)
def test_dashboard_writes_without_a_session_go_to_login_unread(
    anon: TestClient, reads: BodyReads, path: str
) -> None:
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    response = anon.post(
        path, content=b"station=x&csrf_token=y", headers=form, follow_redirects=False
    )
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert reads.messages == 0


def test_a_session_write_without_the_csrf_header_gets_403_unread(
    loaded: AppContext, anon: TestClient, reads: BodyReads
) -> None:
    make_user(loaded, "boss", Role.MANAGER)
    assert login(anon, "boss").status_code == 303
    reads.messages = 0
    response = anon.post("/api/airings", content=BROKEN, headers={"X-CSRF-Token": "forged"})
    assert response.status_code == 403
    assert reads.messages == 0


def test_authenticated_writes_are_read_and_answered_by_the_route(
    loaded: AppContext, anon: TestClient, reads: BodyReads
) -> None:
    token = make_user(loaded, "boss", Role.MANAGER)
    bearer = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    # The route itself now parses the body: broken JSON is its 422, not the guard's 401.
    assert anon.post("/api/campaigns", content=BROKEN, headers=bearer).status_code == 422
    assert reads.messages > 0
    # A session (cookie + CSRF header) passes too: the guard sees the session middleware's work.
    assert login(anon, "boss").status_code == 303
    page = anon.get("/dashboard/lift")
    csrf = csrf_of(page.text)
    airing = {"campaign": "AZ-RADIO-IDMAN-2027", "station": "Idman FM"}
    airing |= {"aired_at": "2027-02-01T08:00:00+04:00", "duration_seconds": 30}
    created = anon.post(
        "/api/airings",
        content=json.dumps(airing),
        headers={"X-CSRF-Token": csrf, "Content-Type": "application/json"},
    )
    assert created.status_code == 201, created.text
    form = {**airing, "aired_at": "2027-02-02T08:00", "csrf_token": csrf}
    assert anon.post("/dashboard/airings", data=form, follow_redirects=False).status_code == 303


def test_reads_and_the_login_form_are_not_guarded(loaded: AppContext, anon: TestClient) -> None:
    make_user(loaded, "ana", Role.VIEWER)
    assert anon.get("/api/campaigns").status_code == 401  # the route's own answer
    assert login(anon, "ana").status_code == 303
    assert anon.get("/api/campaigns").status_code == 200
