# ruff: noqa: F811 (pytest fixtures imported from tests.support.reports)
"""The channel comparison by campaign: rows match each campaign's own report, and viewers
cannot get a hidden row back from the total and the visible rows."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from campaigns.registry.models import Campaign
from outreach.core.context import AppContext
from outreach.web.auth.models import Role
from tests.outreach.cli.test_cli_exit_codes import invoke
from tests.support.reports import add_interactions, login, make_user, web  # noqa: F401

DAY = datetime(2027, 2, 3, 6, 0, tzinfo=UTC)
SPAN = {"from": "2027-01-20", "to": "2027-02-10"}
# People who texted each campaign (None: a text that matched no campaign); person 0 texted
# two campaigns, so the total's unique contacts is less than the rows' sum.
PEOPLE = {
    "AZ-POSTER-NAKH-2027": range(0, 12),
    "AZ-FLYER-BAKU-2027": [0, *range(20, 28)],
    "AZ-NEWS-XALQ-2027": range(30, 32),
    "AZ-RADIO-IDMAN-2027": range(40, 47),
    None: range(50, 56),
}
COLUMNS = ("unique_contacts", "interactions")


@pytest.fixture
def auth(loaded: AppContext) -> dict[str, dict[str, str]]:
    return {
        role.value: {"Authorization": f"Bearer {make_user(loaded, role.value, role)}"}
        for role in (Role.VIEWER, Role.MANAGER)
    }


def _texts(ctx: AppContext) -> None:
    with ctx.sessions() as session:
        ids = {code: cid for code, cid in session.execute(select(Campaign.code, Campaign.id))}
    rows = []
    for code, people in PEOPLE.items():
        for p in people:
            rows.append(
                {
                    "campaign_id": ids[code] if code else None,
                    "contact_id": f"{p:064x}",
                    "created_at": DAY + timedelta(minutes=len(rows)),
                    "external_sid": f"SM{len(rows):032d}",
                }
            )
    add_interactions(ctx, rows)


def _get(client: TestClient, path: str, headers: dict[str, str], **params: str) -> Any:
    response = client.get(path, params={**SPAN, **params}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("role", ["manager", "viewer"])
def test_rows_by_campaign_match_each_campaigns_own_report(
    loaded: AppContext, client: TestClient, auth: dict[str, dict[str, str]], role: str
) -> None:
    _texts(loaded)
    who = auth[role]
    table = _get(client, "/api/reports/channels", who, by="campaign")
    assert table["by"] == "campaign"
    rows = {row["campaign"]: row for row in table["rows"]}
    assert set(rows) == {code for code in PEOPLE if code} | {None}
    assert rows[None]["medium"] == "unattributed"
    for code in filter(None, PEOPLE):
        report = _get(client, f"/api/campaigns/{code}/report", who)
        row = rows[code]
        assert row["campaigns"] == 1
        assert row["unique_contacts"] == report["contacts"]["unique"], code
        assert row["interactions"] == report["interactions"]["total"], code
        assert (row["cost"], row["cost_per_contact"]) == (
            report["cost"]["amount"],
            report["cost"]["per_contact"],
        ), code
    if role == "manager":
        assert {code: rows[code]["unique_contacts"] for code in PEOPLE} == {
            code: len(people) for code, people in PEOPLE.items()
        }
        summary = _get(client, "/api/reports/summary", who)
        assert table["total"]["unique_contacts"] == summary["contacts"]["unique"] == 35
    # The medium rows are the campaign rows of that medium together.
    media = {r["medium"]: r for r in _get(client, "/api/reports/channels", who)["rows"]}
    assert media["poster"]["unique_contacts"] == rows["AZ-POSTER-NAKH-2027"]["unique_contacts"]


def test_viewers_cannot_get_a_hidden_campaign_back_from_the_total(
    loaded: AppContext, client: TestClient, auth: dict[str, dict[str, str]]
) -> None:
    _texts(loaded)
    table = _get(client, "/api/reports/channels", auth["viewer"], by="campaign")
    rows = {row["campaign"]: row for row in table["rows"]}
    news = rows["AZ-NEWS-XALQ-2027"]
    assert news["unique_contacts"] == "<5" and news["interactions"] == "<5"
    assert news["cost_per_contact"] is None
    for column in COLUMNS:
        hidden = [r for r in table["rows"] if r[column] == "<5"]
        shown = [r[column] for r in table["rows"] if isinstance(r[column], int)]
        # A lone hidden row would be the total minus the others: a second one hides with it.
        assert len(hidden) >= 2 or table["total"][column] == "<5", column
        if isinstance(table["total"][column], int):
            assert table["total"][column] - sum(shown) != 2, column
    for value in [r[c] for r in [*table["rows"], table["total"]] for c in COLUMNS]:
        assert value == "<5" or value % 5 == 0
    assert table["suppressed"] == {"k": 5, "base": 5}


def test_bad_row_kind_is_refused(client: TestClient, auth: dict[str, dict[str, str]]) -> None:
    response = client.get(
        "/api/reports/channels", params={**SPAN, "by": "station"}, headers=auth["manager"]
    )
    assert response.status_code == 422


def test_the_dashboard_switches_the_comparison_to_campaigns(
    loaded: AppContext, web: TestClient
) -> None:
    _texts(loaded)
    make_user(loaded, "watcher", Role.VIEWER)
    assert login(web, "watcher").status_code == 303
    by_medium = web.get("/dashboard/channels", params=SPAN)
    assert by_medium.status_code == 200 and "AZ-POSTER-NAKH-2027</td>" not in by_medium.text
    page = web.get("/dashboard/channels", params={**SPAN, "by": "campaign"})
    assert page.status_code == 200
    assert 'name="by"' in page.text and '<option value="campaign" selected>' in page.text
    assert "<td>AZ-POSTER-NAKH-2027</td>" in page.text
    assert "<td>&lt;5</td>" in page.text  # the news campaign, two people
    assert "by=campaign" in page.text  # the CSV link keeps the rows


def test_the_terminal_report_lists_campaigns_as_the_api_does(
    loaded: AppContext, client: TestClient, auth: dict[str, dict[str, str]]
) -> None:
    _texts(loaded)
    result = invoke(
        loaded,
        *("report", "--from", SPAN["from"], "--to", SPAN["to"]),
        *("--by", "campaign", "--json", "--exact"),
    )
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)["channels"]
    # Exact: the CLI here runs without the app's hash key, so its rounding would differ.
    assert printed == _get(client, "/api/reports/channels", auth["manager"], by="campaign")
    table = invoke(loaded, "report", "--from", SPAN["from"], "--to", SPAN["to"], "--by", "campaign")
    assert table.exit_code == 0 and "AZ-POSTER-NAKH-2027" in table.output
    assert invoke(loaded, "report", "--by", "station").exit_code == 2
