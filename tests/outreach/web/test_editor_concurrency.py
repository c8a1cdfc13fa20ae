"""The same browser form posted 20 times at once: one save, the rest a clear refusal, no 500."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from campaigns.audit.models import AuditEntry
from campaigns.registry.models import Campaign
from outreach.core.context import AppContext
from outreach.core.settings import Settings
from outreach.web.auth.models import Role, User
from tests.support.app import make_settings
from tests.support.reports import PASSWORD, make_user
from tests.support.server import serve

COPIES = 20
FORM = {
    "code": "AZ-STICKER-2027",
    "name": "Stickers",
    "medium": "sticker",
    "start": "2027-01-01",
    "end": "2027-06-30",
    "lang-en": "1",
    "numbers": "+994502000888",
    "keywords-en": "sticker",
    "reply-en": "Free advice: +994125550100",
}


@pytest.fixture
def settings(database_url: str) -> Settings:
    # Plain http to the local server: the session cookie must not be Secure-only.
    return make_settings(database_url, public_url="http://127.0.0.1")


def logged_in(client: httpx.Client) -> str:
    """Logs the manager in; returns the session's CSRF token."""
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    data = {"username": "maria", "password": PASSWORD, "csrf_token": token.group(1)}
    client.post("/login", data={**data, "next": "/dashboard"})
    page = client.get("/dashboard/manage/campaigns/new")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    return token.group(1)


def together(post: Callable[[], httpx.Response]) -> list[int]:
    barrier = threading.Barrier(COPIES)

    def one(_: int) -> int:
        barrier.wait(timeout=30)
        return post().status_code

    with ThreadPoolExecutor(max_workers=COPIES) as pool:
        return sorted(pool.map(one, range(COPIES)))


def count(ctx: AppContext, query: Any) -> int:
    with ctx.sessions() as session:
        return int(session.scalar(query) or 0)


def test_twenty_identical_campaign_creates_save_one(loaded: AppContext, app: Any) -> None:
    make_user(loaded, "maria", Role.MANAGER)
    with serve(app) as client:
        csrf = logged_in(client)
        body = {**FORM, "csrf_token": csrf}
        statuses = together(lambda: client.post("/dashboard/manage/campaigns/new", data=body))
    assert statuses.count(303) == 1, statuses
    assert set(statuses) <= {303, 409, 422}, statuses
    code = Campaign.code == "AZ-STICKER-2027"
    assert count(loaded, select(func.count()).select_from(Campaign).where(code)) == 1
    created = AuditEntry.target == "AZ-STICKER-2027"
    assert count(loaded, select(func.count()).select_from(AuditEntry).where(created)) == 1


def test_twenty_identical_user_creates_make_one_user(loaded: AppContext, app: Any) -> None:
    make_user(loaded, "maria", Role.MANAGER)
    with serve(app) as client:
        csrf = logged_in(client)
        body = {"csrf_token": csrf, "username": "nigar", "password": PASSWORD, "role": "viewer"}
        statuses = together(lambda: client.post("/dashboard/users", data=body))
    assert statuses.count(200) == 1 and statuses.count(422) == COPIES - 1, statuses
    named = User.username == "nigar"
    assert count(loaded, select(func.count()).select_from(User).where(named)) == 1
