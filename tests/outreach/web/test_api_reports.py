# ruff: noqa: F811 (pytest fixtures imported from report_helpers)
"""The JSON API: campaign CRUD, airings, reports and exports; the same numbers everywhere."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import jsonschema
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from campaigns.registry.models import Campaign
from outreach.core.context import AppContext
from outreach.web.auth.models import Role
from tests.support.reports import add_interactions, login, make_user, seed_demo, web, window  # noqa: F401

NEW_CAMPAIGN = {
    "code": "AZ-CALENDAR-2027",
    "name": "Calendars - Ganja",
    "medium": "calendar",
    "region": "Ganja",
    "languages": ["az", "ru"],
    "start": "2027-01-01",
    "end": "2027-12-31",
    "cost": 700,
    "currency": "AZN",
    "numbers": ["+994502000777"],
    "keywords": [{"keyword": "təqvim", "language": "az"}],
    "replies": {"az": "Pulsuz məlumat: +994125550100", "ru": "Бесплатно: +994125550100"},
}


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def tokens(loaded: AppContext) -> dict[str, dict[str, str]]:
    return {
        "viewer": _auth(make_user(loaded, "ana", Role.VIEWER)),
        "manager": _auth(make_user(loaded, "boss", Role.MANAGER)),
    }


def test_campaigns_can_be_created_read_updated_and_deleted(
    client: TestClient, tokens: dict[str, dict[str, str]]
) -> None:
    boss = tokens["manager"]
    created = client.post("/api/campaigns", json=NEW_CAMPAIGN, headers=boss)
    assert created.status_code == 201, created.text
    assert created.json()["keywords"] == [{"keyword": "təqvim", "language": "az"}]
    assert client.post("/api/campaigns", json=NEW_CAMPAIGN, headers=boss).status_code == 409
    got = client.get("/api/campaigns/AZ-CALENDAR-2027", headers=tokens["viewer"]).json()
    assert got["medium"] == "calendar" and got["cost"] == 700.0
    changed = client.put(
        "/api/campaigns/AZ-CALENDAR-2027", json={**NEW_CAMPAIGN, "cost": 900}, headers=boss
    )
    assert changed.status_code == 200 and changed.json()["cost"] == 900.0
    codes = [c["code"] for c in client.get("/api/campaigns", headers=boss).json()]
    assert "AZ-CALENDAR-2027" in codes and "AZ-RADIO-IDMAN-2027" in codes
    assert client.delete("/api/campaigns/AZ-CALENDAR-2027", headers=boss).status_code == 204
    assert client.get("/api/campaigns/AZ-CALENDAR-2027", headers=boss).status_code == 404


def test_bad_campaign_bodies_get_422(client: TestClient, tokens: dict[str, dict[str, str]]) -> None:
    boss = tokens["manager"]
    for body in (
        {**NEW_CAMPAIGN, "code": "lower case"},
        {**NEW_CAMPAIGN, "medium": "pigeon"},
        {**NEW_CAMPAIGN, "end": "2026-01-01"},
        {"code": "X"},
    ):
        assert client.post("/api/campaigns", json=body, headers=boss).status_code == 422


def test_reports_reject_bad_dates_and_unknown_campaigns(
    client: TestClient, tokens: dict[str, dict[str, str]]
) -> None:
    viewer = tokens["viewer"]
    assert client.get("/api/reports/channels?from=yesterday", headers=viewer).status_code == 422
    assert (
        client.get(
            "/api/reports/channels?from=2027-02-02&to=2027-02-01", headers=viewer
        ).status_code
        == 422
    )
    assert client.get("/api/reports/summary?channel=fax", headers=viewer).status_code == 422
    assert client.get("/api/campaigns/NOPE/report", headers=viewer).status_code == 404


def test_airings_can_be_recorded_imported_listed_and_deleted(
    client: TestClient, tokens: dict[str, dict[str, str]]
) -> None:
    boss = tokens["manager"]
    one = client.post(
        "/api/airings",
        headers=boss,
        json={
            "campaign": "AZ-RADIO-IDMAN-2027",
            "station": "Idman FM",
            "aired_at": "2027-02-01T08:00:00+04:00",
            "duration_seconds": 30,
        },
    )
    assert one.status_code == 201 and one.json()["aired_at"] == "2027-02-01T04:00:00+00:00"
    imported = client.post(
        "/api/airings/import",
        headers={**boss, "Content-Type": "text/csv"},
        content="campaign,station,aired_at\nAZ-RADIO-ANS-2027,ANS ChM,2027-02-01T19:00:00\n",
    )
    assert imported.json() == {"added": 1, "problems": []}
    listed = client.get("/api/airings?from=2027-02-01&to=2027-02-01", headers=boss).json()
    assert [a["station"] for a in listed] == ["Idman FM", "ANS ChM"]
    assert client.delete(f"/api/airings/{listed[0]['id']}", headers=boss).status_code == 204
    assert client.delete(f"/api/airings/{listed[0]['id']}", headers=boss).status_code == 404
    bad = client.post(
        "/api/airings",
        headers=boss,
        json={"campaign": "NOPE", "station": "X", "aired_at": "2027-02-01T08:00:00+04:00"},
    )
    assert bad.status_code == 422


def test_openapi_documents_the_api(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/campaigns",
        "/api/campaigns/{code}",
        "/api/airings",
        "/api/reports/channels",
        "/api/campaigns/{code}/report",
        "/api/reports/lift",
        "/api/exports/{kind}.csv",
        "/api/exports/floip/{flow_id}",
    ):
        assert path in paths, path
    assert "from" in {p["name"] for p in paths["/api/reports/channels"]["get"]["parameters"]}


def test_viewers_get_small_cells_hidden_and_managers_exact_numbers(
    loaded: AppContext, client: TestClient, tokens: dict[str, dict[str, str]]
) -> None:
    with loaded.sessions() as session:
        poster = session.scalar(select(Campaign.id).where(Campaign.code == "AZ-POSTER-NAKH-2027"))
    add_interactions(
        loaded,
        [
            {
                "campaign_id": poster,
                "contact_id": f"{i:064x}",
                "number": "+994365440101",
                "created_at": __import__("datetime").datetime(
                    2027, 2, 3, 9, i, tzinfo=__import__("datetime").UTC
                ),
            }
            for i in range(3)
        ],
    )
    q = "/api/campaigns/AZ-POSTER-NAKH-2027/report?from=2027-02-01&to=2027-02-05"
    viewer = client.get(q, headers=tokens["viewer"]).json()
    manager = client.get(q, headers=tokens["manager"]).json()
    assert viewer["contacts"]["unique"] == "<5" and viewer["interactions"]["total"] == "<5"
    assert manager["contacts"]["unique"] == 3
    csv_text = client.get(
        "/api/exports/summary.csv?campaign=AZ-POSTER-NAKH-2027&from=2027-02-01&to=2027-02-05",
        headers=tokens["viewer"],
    ).text
    rows = dict(csv.reader(io.StringIO(csv_text)))
    assert rows["contacts.unique"] == "<5"
    table = client.get(
        "/api/reports/channels?from=2027-02-01&to=2027-02-05", headers=tokens["viewer"]
    ).json()
    assert table["rows"][0]["unique_contacts"] == "<5"


def _cli(loaded: AppContext, args: list[str]) -> dict[str, Any]:
    from outreach.cli import app

    env = {
        "OUTREACH_DATABASE_URL": loaded.settings.database_url,
        "OUTREACH_HASH_KEY": loaded.settings.hash_key,
        "OUTREACH_ENCRYPTION_KEY": loaded.settings.encryption_key,
        "OUTREACH_SESSION_SECRET": loaded.settings.session_secret,
        "TWILIO_AUTH_TOKEN": loaded.settings.twilio_auth_token,
    }
    result = CliRunner().invoke(app, ["report", "--json", *args], env=env)
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.output)
    return data


def test_terminal_report_api_and_dashboard_give_the_same_numbers(
    loaded: AppContext, web: TestClient, tokens: dict[str, dict[str, str]]
) -> None:
    seed_demo(loaded, days=3)
    span = window(3)
    for who, flags in (("viewer", []), ("manager", ["--exact"])):
        api = web.get("/api/reports/summary", params=span, headers=tokens[who]).json()
        channels = web.get("/api/reports/channels", params=span, headers=tokens[who]).json()
        cli = _cli(loaded, ["--from", span["from"], "--to", span["to"], *flags])
        assert cli["report"] == api
        assert cli["channels"] == channels
    one = web.get(
        "/api/campaigns/AZ-RADIO-IDMAN-2027/report", params=span, headers=tokens["manager"]
    ).json()
    cli_one = _cli(
        loaded,
        [
            "--campaign",
            "AZ-RADIO-IDMAN-2027",
            "--from",
            span["from"],
            "--to",
            span["to"],
            "--exact",
        ],
    )
    assert cli_one["report"] == one
    assert one["funnel"] and one["topics"] and one["calls"]["total"] > 0
    login(web, "boss")
    page = web.get("/dashboard/campaigns/AZ-RADIO-IDMAN-2027", params=span).text
    assert f'data-testid="unique">{one["contacts"]["unique"]:,}<' in page
    assert f'data-testid="interactions">{one["interactions"]["total"]:,}<' in page


def test_csv_exports_have_a_header_and_one_row_per_item(
    loaded: AppContext, client: TestClient, tokens: dict[str, dict[str, str]]
) -> None:
    seed_demo(loaded, days=2)
    span = window(2)
    for kind, first in (
        ("channels", "medium"),
        ("funnel", "node"),
        ("topics", "topic"),
        ("daily", "day"),
        ("lift", "id"),
        ("stations", "station"),
        ("summary", "metric"),
    ):
        response = client.get(f"/api/exports/{kind}.csv", params=span, headers=tokens["manager"])
        assert response.status_code == 200, kind
        assert response.headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(response.text)))
        assert rows[0][0] == first and len(rows) > 1, kind
    assert client.get("/api/exports/nope.csv", headers=tokens["manager"]).status_code == 404


def test_csv_cells_that_a_spreadsheet_would_run_as_a_formula_are_quoted(
    client: TestClient, tokens: dict[str, dict[str, str]]
) -> None:
    for start in ("=", "+", "-", "@", "\t", "\r"):
        region = f"{start}=1+1"
        response = client.get(
            "/api/exports/summary.csv",
            params={"region": region, "from": "2027-02-01", "to": "2027-02-02"},
            headers=tokens["viewer"],
        )
        assert response.status_code == 200, response.text
        rows = dict(csv.reader(io.StringIO(response.text)))
        assert rows["filter.region"] == "'" + region, repr(start)


def test_openapi_declares_the_report_payloads_and_responses_match_them(
    loaded: AppContext, client: TestClient, tokens: dict[str, dict[str, str]]
) -> None:
    seed_demo(loaded, days=1)
    spec = client.get("/openapi.json").json()
    span = window(1)
    for path, model in (
        ("/api/reports/summary", "CampaignReport"),
        ("/api/campaigns/AZ-RADIO-IDMAN-2027/report", "CampaignReport"),
        ("/api/reports/channels", "ChannelTable"),
        ("/api/reports/lift", "LiftReport"),
    ):
        template = path.replace("AZ-RADIO-IDMAN-2027", "{code}")
        declared = spec["paths"][template]["get"]["responses"]["200"]["content"]
        assert declared["application/json"]["schema"] == {"$ref": f"#/components/schemas/{model}"}
        schema = {"$ref": f"#/components/schemas/{model}", "components": spec["components"]}
        for who in ("viewer", "manager"):
            body = client.get(path, params=span, headers=tokens[who]).json()
            jsonschema.Draft202012Validator(schema).validate(body)
    assert (
        "text/csv" in spec["paths"]["/api/exports/{kind}.csv"]["get"]["responses"]["200"]["content"]
    )
    floip = spec["paths"]["/api/exports/floip/{flow_id}"]["get"]["responses"]["200"]["content"]
    assert floip["application/json"]["schema"] == {"$ref": "#/components/schemas/FloipPackage"}
