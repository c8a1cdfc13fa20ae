"""OpenAPI tells the truth: error bodies match their schemas, enums, dates, statuses, security."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from fastapi.testclient import TestClient

from outreach.core.context import AppContext
from outreach.web.auth.models import Role
from tests.support.reports import make_user

NEW = {
    "code": "AZ-CALENDAR-2027",
    "name": "Calendars",
    "medium": "calendar",
    "languages": ["az"],
    "start": "2027-01-01",
    "end": "2027-12-31",
    "numbers": ["+994502000777"],
    "keywords": [{"keyword": "!!!", "language": "az"}],
    "replies": {"az": "Pulsuz"},
}


@pytest.fixture
def spec(client: TestClient) -> dict[str, Any]:
    return dict(client.get("/openapi.json").json())


@pytest.fixture
def manager(loaded: AppContext) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_user(loaded, 'boss', Role.MANAGER)}"}


def check(spec: dict[str, Any], path: str, method: str, response: Any) -> None:
    """Validates a response body against what the spec declares for its status."""
    declared = spec["paths"][path][method]["responses"]
    status = str(response.status_code)
    assert status in declared, f"{method.upper()} {path} answered undocumented {status}"
    schema = declared[status]["content"]["application/json"]["schema"]
    resolver_schema = {**schema, "components": spec["components"]}
    jsonschema.validate(response.json(), resolver_schema)


def test_every_kind_of_422_matches_the_declared_schema(
    client: TestClient, spec: dict[str, Any], manager: dict[str, str]
) -> None:
    cases = [
        (
            "/api/campaigns",
            "post",
            client.post("/api/campaigns", json={"code": 1}, headers=manager),
        ),
        ("/api/campaigns", "post", client.post("/api/campaigns", json=NEW, headers=manager)),
        (
            "/api/reports/summary",
            "get",
            client.get("/api/reports/summary?from=2027-02-02&to=2027-02-01", headers=manager),
        ),
        (
            "/api/reports/lift",
            "get",
            client.get("/api/reports/lift?from=2000-01-01&to=2099-01-01", headers=manager),
        ),
        (
            "/api/airings",
            "post",
            client.post(
                "/api/airings",
                json={"campaign": "NOPE", "station": "X", "aired_at": "2027-02-01T08:00:00+04:00"},
                headers=manager,
            ),
        ),
    ]
    for path, method, response in cases:
        assert response.status_code == 422, (path, response.text)
        check(spec, path, method, response)
        for error in response.json()["detail"]:
            assert set(error) == {"loc", "msg", "type"}


def test_error_statuses_are_documented_with_their_bodies(
    client: TestClient, spec: dict[str, Any], manager: dict[str, str], loaded: AppContext
) -> None:
    viewer = {"Authorization": f"Bearer {make_user(loaded, 'ana', Role.VIEWER)}"}
    existing = client.get("/api/campaigns/AZ-FLYER-BAKU-2027", headers=manager).json()
    cases = [
        ("/api/campaigns", "get", client.get("/api/campaigns")),
        ("/api/campaigns/{code}", "get", client.get("/api/campaigns/NOPE", headers=manager)),
        ("/api/campaigns", "post", client.post("/api/campaigns", json=existing, headers=manager)),
        ("/api/campaigns", "post", client.post("/api/campaigns", json=existing, headers=viewer)),
        ("/api/campaigns/{code}", "delete", client.delete("/api/campaigns/NOPE", headers=manager)),
        ("/api/airings/{airing_id}", "delete", client.delete("/api/airings/7", headers=manager)),
        ("/api/airings", "get", client.get("/api/airings?campaign=NOPE", headers=manager)),
        (
            "/api/campaigns/{code}/report",
            "get",
            client.get("/api/campaigns/NOPE/report", headers=manager),
        ),
    ]
    statuses = [response.status_code for _, _, response in cases]
    assert statuses == [401, 404, 409, 403, 404, 404, 404, 404]
    for path, method, response in cases:
        check(spec, path, method, response)


def test_enums_and_date_formats_are_declared(spec: dict[str, Any]) -> None:
    params = {
        p["name"]: p["schema"] for p in spec["paths"]["/api/reports/summary"]["get"]["parameters"]
    }
    for name in ("from", "to"):
        assert {"type": "string", "format": "date"} in params[name]["anyOf"]
    refs = {
        name: params[name]["anyOf"][0]["$ref"].rsplit("/", 1)[-1]
        for name in ("medium", "channel", "language")
    }
    schemas = spec["components"]["schemas"]
    assert "radio" in schemas[refs["medium"]]["enum"]
    assert schemas[refs["channel"]]["enum"] == ["sms", "whatsapp", "voice"]
    assert "az" in schemas[refs["language"]]["enum"]
    campaign = (
        schemas["CampaignSpec-Input"]
        if "CampaignSpec-Input" in schemas
        else schemas["CampaignSpec"]
    )
    assert campaign["properties"]["start"]["format"] == "date"
    assert campaign["properties"]["languages"]["items"]["$ref"].endswith("/Language")


def test_the_api_declares_bearer_and_cookie_security(spec: dict[str, Any]) -> None:
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schemes["bearer"]["description"],
    }
    assert schemes["session"]["type"] == "apiKey" and schemes["session"]["in"] == "cookie"
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            if path.startswith("/api/"):
                assert {"bearer": []} in operation["security"], (method, path)
                assert {"session": []} in operation["security"], (method, path)
                assert "401" in operation["responses"], (method, path)
            if path.startswith("/api/") and method in ("post", "put", "delete"):
                assert "403" in operation["responses"], (method, path)
