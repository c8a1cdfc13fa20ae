# ruff: noqa: F811 (the `web` fixture imported from tests.support.reports)
"""Out-of-range input gets a clear 404 or 422, never a 500: dates, airing ids, campaigns."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from outreach.core.context import AppContext
from outreach.web.auth.models import Role
from tests.support.reports import csrf_of, login, make_user, web  # noqa: F401

EXTREMES = [
    {"from": "0001-01-01"},
    {"to": "9999-12-31"},
    {"from": "0001-01-01", "to": "9999-12-31"},
    {"from": "1999-12-31", "to": "2000-01-05"},
    {"from": "2099-12-01", "to": "2100-01-01"},
]


@pytest.fixture
def manager(loaded: AppContext) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_user(loaded, 'boss', Role.MANAGER)}"}


@pytest.mark.parametrize("query", EXTREMES)
@pytest.mark.parametrize("path", ["/api/reports/summary", "/api/airings"])
def test_extreme_dates_on_the_api_get_422_naming_the_parameter(
    client: TestClient, manager: dict[str, str], path: str, query: dict[str, str]
) -> None:
    response = client.get(path, params=query, headers=manager)
    assert response.status_code == 422, response.text
    [error, *_] = response.json()["detail"]
    assert error["loc"][0] == "query" and error["loc"][1] in ("from", "to")
    assert "2000-01-01" in error["msg"] or "2099-12-31" in error["msg"]


@pytest.mark.parametrize("query", EXTREMES[:2])
@pytest.mark.parametrize("path", ["/dashboard", "/dashboard/lift", "/dashboard/channels"])
def test_extreme_dates_on_pages_get_422_not_500(
    loaded: AppContext, web: TestClient, path: str, query: dict[str, str]
) -> None:
    make_user(loaded, "ana", Role.VIEWER)
    login(web, "ana")
    response = web.get(path, params=query)
    assert response.status_code == 422, response.text[:300]


def test_edge_days_are_accepted(client: TestClient, manager: dict[str, str]) -> None:
    for query in (
        {"from": "2000-01-01", "to": "2000-01-31"},
        {"from": "2099-12-01", "to": "2099-12-31"},
    ):
        assert client.get("/api/reports/summary", params=query, headers=manager).status_code == 200
        assert client.get("/api/airings", params=query, headers=manager).status_code == 200


def test_blank_dates_from_a_form_mean_the_default_range(
    client: TestClient, manager: dict[str, str]
) -> None:
    blank = {"from": "", "to": "", "medium": "", "channel": "", "language": ""}
    assert client.get("/api/reports/summary", params=blank, headers=manager).status_code == 200


def test_airings_of_an_unknown_campaign_are_404(
    client: TestClient, manager: dict[str, str]
) -> None:
    response = client.get("/api/airings", params={"campaign": "NOPE"}, headers=manager)
    assert response.status_code == 404 and "unknown campaign" in response.json()["detail"]


@pytest.mark.parametrize("airing_id", ["1" * 36, str(2**31), str(2**63), "0", "-1"])
def test_deleting_an_out_of_range_airing_id_is_422(
    client: TestClient, manager: dict[str, str], airing_id: str
) -> None:
    response = client.delete(f"/api/airings/{airing_id}", headers=manager)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["path", "airing_id"]


def test_deleting_an_out_of_range_airing_id_on_the_dashboard_changes_nothing(
    loaded: AppContext, web: TestClient
) -> None:
    make_user(loaded, "boss", Role.MANAGER)
    login(web, "boss")
    token = csrf_of(web.get("/dashboard/lift").text)
    response = web.post(
        f"/dashboard/airings/{'1' * 36}/delete", data={"csrf_token": token}, follow_redirects=False
    )
    assert response.status_code == 303


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00+00:00", "9999-12-31T23:59:00-12:00"])
def test_airings_far_outside_the_campaign_era_are_refused(
    client: TestClient, manager: dict[str, str], when: str
) -> None:
    body = {"campaign": "AZ-RADIO-IDMAN-2027", "station": "Idman FM", "aired_at": when}
    response = client.post("/api/airings", json=body, headers=manager)
    assert response.status_code == 422, response.text
    csv = f"campaign,station,aired_at\nAZ-RADIO-IDMAN-2027,Idman FM,{when}\n"
    imported = client.post(
        "/api/airings/import", content=csv, headers={**manager, "Content-Type": "text/csv"}
    )
    assert imported.json()["added"] == 0
    assert client.get("/api/reports/lift", headers=manager).status_code == 200
