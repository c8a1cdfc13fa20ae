# ruff: noqa: F811 (pytest fixtures imported from tests.support.reports)
"""Counts per keyword equal the texts sent; cost per contact takes the cost in the dates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from campaigns.registry.models import Campaign, Keyword
from campaigns.reports import service
from outreach.core.context import AppContext
from outreach.web.auth.models import Role
from tests.support.app import signed_post
from tests.support.reports import add_interactions, login, make_user, web  # noqa: F401

FLYER, NEWS, POSTER = "AZ-FLYER-BAKU-2027", "AZ-NEWS-XALQ-2027", "AZ-POSTER-NAKH-2027"
FLYER_NUMBER = "+994502000101"
DAY = datetime(2027, 2, 3, 6, 0, tzinfo=UTC)


@pytest.fixture
def auth(loaded: AppContext) -> dict[str, dict[str, str]]:
    return {
        role.value: {"Authorization": f"Bearer {make_user(loaded, role.value, role)}"}
        for role in (Role.VIEWER, Role.MANAGER)
    }


def _sms(n: int, body: str) -> dict[str, str]:
    sid = f"SM{n:032d}"
    return {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": "AC" + "0" * 32,
        "From": f"+99450{n:07d}",
        "To": FLYER_NUMBER,
        "Body": body,
        "NumMedia": "0",
    }


def _get(client: TestClient, path: str, headers: dict[str, str], **params: str) -> Any:
    response = client.get(path, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def _normalized(ctx: AppContext, code: str, language: str) -> str:
    with ctx.sessions() as session:
        found = session.scalar(
            select(Keyword.normalized)
            .join(Campaign)
            .where(Campaign.code == code, Keyword.language == language)
        )
    assert found is not None
    return found


def test_counts_per_keyword_equal_the_texts_sent_and_hide_few_senders_from_viewers(
    loaded: AppContext, client: TestClient, auth: dict[str, dict[str, str]]
) -> None:
    sent = {(FLYER, "az"): 7, (FLYER, "ru"): 3, (NEWS, "az"): 6}
    bodies = {(FLYER, "az"): "iş", (FLYER, "ru"): "РАБОТА", (NEWS, "az"): "qezet"}
    n = 0
    for cell, times in sent.items():
        for _ in range(times):
            n += 1
            assert signed_post(client, "/twilio/sms", _sms(n, bodies[cell])).status_code == 200
    n += 1
    assert signed_post(client, "/twilio/sms", _sms(n, "salam")).status_code == 200  # no keyword
    today = datetime.now(ZoneInfo(loaded.settings.default_timezone)).date()
    span = {"from": str(today - timedelta(days=1)), "to": str(today + timedelta(days=1))}
    manager = _get(client, "/api/reports/summary", auth["manager"], **span)
    expected = {(code, _normalized(loaded, code, lang)): k for (code, lang), k in sent.items()}
    got = {(k["campaign"], k["keyword"]): k["count"] for k in manager["keywords"]}
    assert got == expected
    assert sum(got.values()) == 16 == manager["interactions"]["sms"] - 1
    flyer = _get(client, f"/api/campaigns/{FLYER}/report", auth["manager"], **span)
    assert {k["keyword"]: k["count"] for k in flyer["keywords"]} == {
        key: count for (code, key), count in expected.items() if code == FLYER
    }
    # A rebuild from the raw log gives the same counts as the incremental refresh.
    with loaded.sessions.begin() as session:
        service.rebuild(session, settings=loaded.settings, now=datetime.now(UTC))
    assert _get(client, "/api/reports/summary", auth["manager"], **span) == manager
    viewer = _get(client, f"/api/campaigns/{FLYER}/report", auth["viewer"], **span)
    seen = {k["keyword"]: k["count"] for k in viewer["keywords"]}
    assert seen[_normalized(loaded, FLYER, "ru")] == "<5"  # three senders
    assert seen[_normalized(loaded, FLYER, "az")] in (5, 10)  # rounded to a multiple of 5


def _poster_texts(ctx: AppContext, people: int) -> None:
    with ctx.sessions() as session:
        poster = session.scalar(select(Campaign.id).where(Campaign.code == POSTER))
    add_interactions(
        ctx,
        [
            {
                "campaign_id": poster,
                "contact_id": f"{p:064x}",
                "created_at": DAY + timedelta(minutes=p),
                "external_sid": f"SM{p:032d}",
            }
            for p in range(people)
        ],
    )


def test_cost_per_contact_takes_the_share_of_the_cost_that_falls_in_the_dates(
    loaded: AppContext, client: TestClient, auth: dict[str, dict[str, str]]
) -> None:
    _poster_texts(loaded, 10)
    # The poster campaign runs 1 February to 31 May 2027 (120 days) and cost 600 AZN; the
    # range 20 January to 10 February holds 10 of its days.
    days = (datetime(2027, 5, 31) - datetime(2027, 2, 1)).days + 1
    share = (Decimal(600) * 10 / days).quantize(Decimal("0.01"))
    assert days == 120 and share == Decimal("50.00")
    part = {"from": "2027-01-20", "to": "2027-02-10"}
    report = _get(client, f"/api/campaigns/{POSTER}/report", auth["manager"], **part)
    assert report["cost"] == {"amount": 50.0, "currency": "AZN", "per_contact": 5.0}
    table = _get(client, "/api/reports/channels", auth["manager"], medium="poster", **part)
    assert [(r["medium"], r["cost"], r["cost_per_contact"]) for r in table["rows"]] == [
        ("poster", 50.0, 5.0)
    ]
    whole = {"from": "2027-01-01", "to": "2027-06-30"}
    report = _get(client, f"/api/campaigns/{POSTER}/report", auth["manager"], **whole)
    assert report["cost"] == {"amount": 600.0, "currency": "AZN", "per_contact": 60.0}
    outside = {"from": "2027-07-01", "to": "2027-07-31"}
    report = _get(client, f"/api/campaigns/{POSTER}/report", auth["manager"], **outside)
    assert report["cost"]["amount"] == 0.0 and report["cost"]["per_contact"] is None


def test_the_dashboard_says_cost_is_pro_rata_and_lists_keywords(
    loaded: AppContext, web: TestClient
) -> None:
    _poster_texts(loaded, 10)
    make_user(loaded, "boss", Role.MANAGER)
    assert login(web, "boss").status_code == 303
    part = {"from": "2027-01-20", "to": "2027-02-10"}
    page = web.get(f"/dashboard/campaigns/{POSTER}", params=part)
    assert page.status_code == 200
    assert "falls in the chosen dates" in page.text
    assert 'data-testid="cost-per-contact">5.00<' in page.text
    assert 'data-testid="keyword-table"' in page.text
    channels = web.get("/dashboard/channels", params=part)
    assert "falls in the chosen dates" in channels.text
