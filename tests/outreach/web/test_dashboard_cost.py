# ruff: noqa: F811 (the `web` fixture imported from tests.support.reports)
"""The dashboard's cost field follows the API's rule (campaigns/registry/schemas.py `Cost`)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from campaigns.registry.models import Campaign
from outreach.core.context import AppContext
from outreach.web.auth.models import Role
from tests.support.reports import csrf_of, login, make_user, web  # noqa: F401

CODE = "AZ-FLYER-BAKU-2027"


def cost_of(ctx: AppContext) -> Decimal | None:
    with ctx.sessions() as session:
        return session.scalar(select(Campaign.cost).where(Campaign.code == CODE))


def save(web: TestClient, cost: str) -> int:
    page = web.get(f"/dashboard/campaigns/{CODE}")
    assert page.status_code == 200, page.text
    response = web.post(
        f"/dashboard/campaigns/{CODE}",
        data={"name": "Flyers", "cost": cost, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    return int(response.status_code)


@pytest.mark.parametrize(
    "cost", ["Infinity", "inf", "-Infinity", "NaN", "-500", "1e20", "0.001", "abc"]
)
def test_bad_costs_are_refused_and_reports_keep_working(
    loaded: AppContext, web: TestClient, cost: str
) -> None:
    make_user(loaded, "boss", Role.MANAGER)
    login(web, "boss")
    before = cost_of(loaded)
    assert save(web, cost) == 422
    assert cost_of(loaded) == before
    assert web.get("/dashboard").status_code == 200
    assert web.get("/api/reports/summary").status_code == 200


@pytest.mark.parametrize(
    ("cost", "stored"), [("2100", Decimal("2100")), (" 12.50 ", Decimal("12.5")), ("", None)]
)
def test_good_costs_are_saved(
    loaded: AppContext, web: TestClient, cost: str, stored: Decimal | None
) -> None:
    make_user(loaded, "boss", Role.MANAGER)
    login(web, "boss")
    assert save(web, cost) == 303
    assert cost_of(loaded) == stored
