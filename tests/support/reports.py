"""Helpers for report, auth and API tests: raw rows, users, logins, seeded demo data."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert

from campaigns.registry.models import Interaction
from outreach.core.context import AppContext
from outreach.web.auth.models import Role
from outreach.web.auth.service import create_token, create_user

PASSWORD = "correct horse battery"
# The demo campaigns run in early 2027; seeded tests play February (all of them air then).
SEED_END = datetime(2027, 2, 22, 20, 0, tzinfo=UTC)


def add_interactions(ctx: AppContext, rows: list[dict[str, Any]]) -> None:
    """Inserts raw interaction rows (defaults filled in)."""
    full = []
    for i, row in enumerate(rows):
        base = {
            "campaign_id": None,
            "channel": "sms",
            "kind": "keyword",
            "attribution": "none",
            "number": "+994502000101",
            "keyword": None,
            "language": "az",
            "country": "AZ",
            "external_sid": f"SM{i:032d}-{row.get('contact_id', '')[:8]}",
            "reply": None,
        }
        base.update(row)
        full.append(base)
    with ctx.sessions.begin() as session:
        session.execute(insert(Interaction), full)


def make_user(ctx: AppContext, username: str, role: Role) -> str:
    """Creates a user with PASSWORD and returns an API token of theirs."""
    with ctx.sessions.begin() as session:
        user = create_user(session, username=username, password=PASSWORD, role=role)
        return create_token(session, user=user, name="test")


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD) -> Any:
    page = client.get("/login")
    return client.post(
        "/login",
        data={
            "username": username,
            "password": password,
            "csrf_token": csrf_of(page.text),
            "next": "/dashboard",
        },
        follow_redirects=False,
    )


def seed_demo(ctx: AppContext, days: int = 4) -> None:
    """Plays a few demo days through the real services (demo campaigns must be loaded)."""
    from outreach.demo.seed import seed

    seed(ctx, days=days, end=SEED_END, rng_seed=3)


def window(days: int = 4) -> dict[str, str]:
    """The query range that covers seed_demo's traffic."""
    first = (SEED_END - timedelta(days=days + 1)).date().isoformat()
    return {"from": first, "to": SEED_END.date().isoformat()}


@pytest.fixture
def web(app: Any) -> Iterator[TestClient]:
    """A client on https (the session cookie is Secure when the public URL is https)."""
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as c:
        yield c
