"""What viewers see: no hidden count comes back by subtraction, numbers from few people hide."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from campaigns.airings import service as airings
from campaigns.registry.models import Campaign
from campaigns.reports import rollups
from campaigns.reports.rounding import round_count
from outreach.core.context import AppContext
from outreach.web.auth.models import Role
from tests.support.reports import add_interactions, make_user
from tests.support.voice import OPEN, RADIO, Caller

POSTER = "AZ-POSTER-NAKH-2027"
DAY = datetime(2027, 2, 3, 6, 0, tzinfo=UTC)  # 10:00 in Baku
SPAN = {"from": "2027-02-01", "to": "2027-02-05"}


@pytest.fixture
def auth(loaded: AppContext) -> dict[str, dict[str, str]]:
    return {
        role.value: {"Authorization": f"Bearer {make_user(loaded, role.value, role)}"}
        for role in (Role.VIEWER, Role.MANAGER)
    }


def _campaign_id(ctx: AppContext, code: str) -> int:
    with ctx.sessions() as session:
        found = session.scalar(select(Campaign.id).where(Campaign.code == code))
    assert found is not None
    return found


def _texts(ctx: AppContext, people: list[tuple[int, str, str, datetime]]) -> None:
    """Adds one text per (person, language, channel, time)."""
    poster = _campaign_id(ctx, POSTER)
    add_interactions(
        ctx,
        [
            {
                "campaign_id": poster,
                "contact_id": f"{person:064x}",
                "language": language,
                "channel": channel,
                "created_at": at,
                "external_sid": f"SM{n:032d}",
            }
            for n, (person, language, channel, at) in enumerate(people)
        ],
    )


def _numbers(doc: Any) -> list[int]:
    if isinstance(doc, dict):
        return [n for value in doc.values() for n in _numbers(value)]
    if isinstance(doc, list):
        return [n for value in doc for n in _numbers(value)]
    return [doc] if isinstance(doc, int) and not isinstance(doc, bool) else []


def _report(client: TestClient, headers: dict[str, str], **params: str) -> dict[str, Any]:
    response = client.get("/api/reports/summary", params={**SPAN, **params}, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_subtracting_reports_across_requests_and_filters_does_not_give_back_a_hidden_count(
    loaded: AppContext, client: TestClient, auth: dict[str, dict[str, str]]
) -> None:
    # 9 people: 6 texted in Azerbaijani on 3 February, 3 in English on 4 February.
    _texts(
        loaded,
        [(p, "az", "sms", DAY + timedelta(minutes=p)) for p in range(6)]
        + [(p, "en", "sms", DAY + timedelta(days=1, minutes=p)) for p in range(6, 9)],
    )
    viewer, manager = auth["viewer"], auth["manager"]
    everyone = _report(client, viewer, campaign=POSTER)
    az = _report(client, viewer, campaign=POSTER, language="az")
    en = _report(client, viewer, campaign=POSTER, language="en")
    ru = _report(client, viewer, campaign=POSTER, language="ru")
    first_day = _report(client, viewer, campaign=POSTER, to="2027-02-03")
    second_day = _report(client, viewer, campaign=POSTER, **{"from": "2027-02-04"})
    assert en["contacts"]["unique"] == "<5" and en["interactions"]["total"] == "<5"
    assert second_day["contacts"]["unique"] == "<5"
    for field in ("contacts", "unique"), ("interactions", "total"), ("interactions", "sms"):
        a, b = field
        # The attack of issue 9: all - az - ru (languages), and the range minus its first day.
        by_language = everyone[a][b] - az[a][b] - ru[a][b]
        by_day = everyone[a][b] - first_day[a][b]
        assert by_language != 3 and by_day != 3, field
    for doc in (everyone, az, ru, first_day):
        published = _numbers({k: v for k, v in doc.items() if k in ("interactions", "contacts")})
        assert published and all(n % 5 == 0 for n in published), published
    # The daily breakdown of one answer gives the English day neither: hiding it alone would
    # leave total - 3 February, so 3 February is hidden too.
    days = {row["day"]: row["sms"] for row in everyone["daily"]}
    assert days["2027-02-04"] == "<5" and days["2027-02-03"] == "<5"
    # Asking again, or for the same rows another way, gives the same figures (no averaging).
    assert _report(client, viewer, campaign=POSTER) == everyone
    wider = _report(client, viewer, campaign=POSTER, **{"from": "2027-01-20", "to": "2027-02-15"})
    assert wider["interactions"] == everyone["interactions"]
    assert wider["contacts"] == everyone["contacts"]
    assert _report(client, viewer, medium="poster")["interactions"] == everyone["interactions"]
    # The CSV export shows what the JSON shows.
    text = client.get(
        "/api/exports/summary.csv", params={**SPAN, "campaign": POSTER}, headers=viewer
    ).text
    rows = dict(csv.reader(io.StringIO(text)))
    assert rows["contacts.unique"] == str(everyone["contacts"]["unique"])
    assert rows["suppressed.base"] == "5"
    # Managers keep the exact numbers.
    exact = [
        _report(client, manager, campaign=POSTER, **extra)["contacts"]["unique"]
        for extra in ({}, {"language": "az"}, {"language": "en"})
    ]
    assert exact == [9, 6, 3]


def test_texts_from_fewer_than_k_people_are_hidden_however_many_they_are(
    loaded: AppContext, client: TestClient, auth: dict[str, dict[str, str]]
) -> None:
    # One person sent 5 WhatsApp texts; ten others one SMS each.
    _texts(
        loaded,
        [(99, "az", "whatsapp", DAY + timedelta(minutes=m)) for m in range(5)]
        + [(p, "az", "sms", DAY + timedelta(minutes=p)) for p in range(10)],
    )
    seen = _report(client, auth["viewer"], campaign=POSTER)
    assert seen["interactions"]["whatsapp"] == "<5"
    assert {row["day"]: row["whatsapp"] for row in seen["daily"]}["2027-02-03"] == "<5"
    assert seen["contacts"]["unique"] in (10, 15)
    exact = _report(client, auth["manager"], campaign=POSTER)
    assert exact["interactions"]["whatsapp"] == 5 and exact["contacts"]["unique"] == 11


def test_topics_and_funnel_steps_of_one_caller_are_hidden_from_viewers(
    loaded: AppContext, client: TestClient, auth: dict[str, dict[str, str]]
) -> None:
    loaded.clock = lambda: OPEN
    for n in range(5):  # the same person calls five times about trafficking
        call = Caller(client, RADIO, caller="+994551110000")
        call.start()
        call.press("1")
        call.press("4")
        call.status("completed", 40 + n)
    for n in range(6):  # six people ask about visas once each
        call = Caller(client, RADIO, caller=f"+99455222000{n}")
        call.start()
        call.press("1")
        call.press("3")
        call.status("completed", 60)
    params = {"from": "2027-01-31", "to": "2027-02-02"}
    path = "/api/campaigns/AZ-RADIO-IDMAN-2027/report"
    seen = client.get(path, params=params, headers=auth["viewer"]).json()
    exact = client.get(path, params=params, headers=auth["manager"]).json()
    assert {t["topic"]: t["count"] for t in exact["topics"]} == {"trafficking": 5, "visas": 6}
    topics = {t["topic"]: t["count"] for t in seen["topics"]}
    assert topics["trafficking"] == "<5" and topics["visas"] in (5, 10)
    node = {n["node"]: n for n in seen["funnel"]}["trafficking"]
    assert node["reached"] == "<5"
    assert {n["node"]: n for n in exact["funnel"]}["trafficking"]["reached"] == 5
    assert seen["calls"]["total"] in (10, 15) and exact["calls"]["total"] == 11
    # A rebuild (which numbers contacts anew) gives viewers the same figures again.
    with loaded.sessions.begin() as session:
        rollups.rebuild(session, zone=ZoneInfo("Asia/Baku"), now=OPEN + timedelta(hours=1))
    assert client.get(path, params=params, headers=auth["viewer"]).json() == seen


def test_lift_curves_do_not_add_up_to_a_hidden_window(
    loaded: AppContext, client: TestClient, auth: dict[str, dict[str, str]]
) -> None:
    with loaded.sessions.begin() as session:
        airings.create(
            session,
            campaign_code="AZ-RADIO-IDMAN-2027",
            station="Idman FM",
            aired_at=DAY,
            duration_seconds=30,
        )
    radio = _campaign_id(loaded, "AZ-RADIO-IDMAN-2027")
    add_interactions(
        loaded,
        [
            {
                "channel": "voice",
                "kind": "call",
                "campaign_id": radio,
                "contact_id": f"{p:064x}",
                "created_at": DAY + timedelta(minutes=2, seconds=p),
                "external_sid": f"CA{p:032d}",
            }
            for p in range(3)
        ],
    )
    seen = client.get("/api/reports/lift", params=SPAN, headers=auth["viewer"]).json()
    exact = client.get("/api/reports/lift", params=SPAN, headers=auth["manager"]).json()
    assert exact["airings"][0]["calls_after"] == 3 and exact["airings"][0]["per_minute"][32] == 3
    row = seen["airings"][0]
    assert row["calls_after"] == "<5" and row["excess_calls"] is None
    visible = [n for n in row["per_minute"] if isinstance(n, int)]
    assert sum(visible) != 3 and "<5" in row["per_minute"]
    station = seen["stations"][0]
    assert station["calls_after"] == "<5" and None in station["mean_per_minute"]


def test_rounding_goes_to_a_neighbouring_multiple_fixed_by_the_content() -> None:
    secret = b"k" * 32
    for value in range(1, 60):
        rounded = round_count(value, base=5, secret=secret, content=b"rows")
        assert rounded % 5 == 0 and abs(rounded - value) < 5 and rounded > 0
        assert rounded == round_count(value, base=5, secret=secret, content=b"rows")
    assert round_count(0, base=5, secret=secret, content=b"x") == 0
    assert round_count(10, base=5, secret=secret, content=b"x") == 10
    assert round_count(7, base=1, secret=secret, content=b"x") == 7
    # Unbiased: over many contents a 7 is 10 about 40% of the time and 5 otherwise.
    ups = sum(
        round_count(7, base=5, secret=secret, content=str(i).encode()) == 10 for i in range(2000)
    )
    assert 700 < ups < 900
