"""The campaigns API: the campaigns validator on every save, flow paths, and a true round trip."""

from __future__ import annotations

import inspect as pyinspect
import json
import shutil
from asyncio import iscoroutinefunction as inspect_coroutine
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import inspect, select

from campaigns.registry.models import Campaign
from outreach.core.context import AppContext
from outreach.core.settings import Settings
from outreach.web.api import campaigns as campaigns_api
from outreach.web.api import reports as reports_api
from outreach.web.auth.models import Role
from tests.support.app import DEMO_FILE, make_settings, signed_post
from tests.support.flows import DEMO_FLOWS, FifoWriter
from tests.support.reports import make_user
from tests.support.voice import OPEN, Caller, said
from webhooks import voice as voice_hooks

DEMO_CODES = [c["code"] for c in yaml.safe_load(DEMO_FILE.read_text(encoding="utf-8"))["campaigns"]]
FLYER = "+994502000101"
NEW = {
    "code": "AZ-CALENDAR-2027",
    "name": "Calendars - Ganja",
    "medium": "calendar",
    "languages": ["az", "ru"],
    "start": "2027-01-01",
    "end": "2027-12-31",
    "numbers": ["+994502000777"],
    "keywords": [{"keyword": "təqvim", "language": "az"}],
    "replies": {"az": "Pulsuz məlumat: +994125550100", "ru": "Бесплатно: +994125550100"},
}


@pytest.fixture
def flows(tmp_path: Path) -> Path:
    root = tmp_path / "flows"
    root.mkdir()
    shutil.copy(DEMO_FLOWS / "radio.yaml", root / "radio.yaml")
    shutil.copy(DEMO_FLOWS / "radio.yaml", tmp_path / "outside.yaml")
    return root


@pytest.fixture
def settings(database_url: str, flows: Path) -> Settings:
    return make_settings(database_url, flows_dir=str(flows))


@pytest.fixture
def boss(loaded: AppContext) -> dict[str, str]:
    loaded.clock = lambda: OPEN
    return {"Authorization": f"Bearer {make_user(loaded, 'boss', Role.MANAGER)}"}


def sms(client: TestClient, body: str, *, to: str, sender: str, sid: str) -> str:
    params = {"MessageSid": sid, "From": sender, "To": to, "Body": body}
    response = signed_post(client, "/twilio/sms", params)
    assert response.status_code == 200, response.text
    return "".join(m.text or "" for m in ElementTree.fromstring(response.text).iter("Message"))


def stored(ctx: AppContext, code: str) -> dict[str, Any]:
    """Every column of a campaign, its numbers and its keywords (ids included)."""
    with ctx.sessions() as session:
        row = session.scalar(select(Campaign).where(Campaign.code == code))
        assert row is not None
        columns = {a.key: getattr(row, a.key) for a in inspect(Campaign).column_attrs}
        return {
            **columns,
            "numbers": [(n.id, n.number) for n in row.numbers],
            "keywords": [(k.id, k.keyword, k.normalized, k.language) for k in row.keywords],
        }


def behaviour(client: TestClient, ctx: AppContext, code: str, run: str) -> list[Any]:
    """What texters and callers of a campaign get: keyword and YES replies, a call's prompts."""
    state = stored(ctx, code)
    seen: list[Any] = []
    sender = "+99450123456" + run
    for n, (_, keyword, _, _) in enumerate(state["keywords"]):
        number = state["numbers"][0][1]
        sid = f"SM{run}{n:031d}"
        seen.append(sms(client, keyword, to=number, sender=sender, sid=sid))
        seen.append(sms(client, "BƏLİ", to=number, sender=sender, sid=sid + "y"))
    if (state["options"].get("voice") or {}).get("flow"):
        call = Caller(client, state["numbers"][0][1], caller=sender)
        seen.append(said(call.start()))
        if not call.ended:
            seen.append(said(call.press("1")))
    return seen


@pytest.mark.parametrize("code", DEMO_CODES)
def test_put_of_what_get_returned_changes_nothing(
    client: TestClient, loaded: AppContext, boss: dict[str, str], code: str
) -> None:
    before, acts_before = stored(loaded, code), behaviour(client, loaded, code, "1")
    document = client.get(f"/api/campaigns/{code}", headers=boss).json()
    put = client.put(f"/api/campaigns/{code}", json=document, headers=boss)
    assert put.status_code == 200, put.text
    assert put.json() == document
    assert stored(loaded, code) == before
    acts_after = behaviour(client, loaded, code, "2")
    assert acts_after == acts_before
    assert not any("Sorry, something went wrong" in str(act) for act in acts_after)


def test_the_document_keeps_the_follow_up_series(
    client: TestClient, loaded: AppContext, boss: dict[str, str]
) -> None:
    document = client.get("/api/campaigns/AZ-NEWS-XALQ-2027", headers=boss).json()
    assert document["followups"]["series"][0]["id"] == "info"
    assert "source_dir" not in document


def problems(response: Any) -> list[tuple[list[Any], str]]:
    assert response.status_code == 422, response.text
    return [(e["loc"], e["msg"]) for e in response.json()["detail"]]


def codes(client: TestClient, boss: dict[str, str]) -> list[str]:
    return [c["code"] for c in client.get("/api/campaigns", headers=boss).json()]


@pytest.mark.parametrize(
    ("flow", "reason"),
    [
        ("/etc/passwd", "not an absolute path"),
        ("/dev/zero", "not an absolute path"),
        ("../outside.yaml", "outside the flows folder"),
        ("../../../../../../../etc/passwd", "outside the flows folder"),
        ("escape.yaml", "outside the flows folder"),
        ("zero.yaml", "outside the flows folder"),
        ("missing.yaml", "not found"),
    ],
)
def test_a_voice_flow_outside_the_flows_folder_is_refused_when_saved(
    client: TestClient,
    loaded: AppContext,
    boss: dict[str, str],
    flows: Path,
    flow: str,
    reason: str,
) -> None:
    (flows / "escape.yaml").symlink_to(flows.parent / "outside.yaml")
    (flows / "zero.yaml").symlink_to("/dev/zero")
    body = {**NEW, "voice": {"flow": flow}}
    found = problems(client.post("/api/campaigns", json=body, headers=boss))
    assert [loc for loc, _ in found] == [["body", "voice", "flow"]]
    assert reason in found[0][1]
    assert NEW["code"] not in codes(client, boss)


def test_an_absolute_path_to_a_valid_flow_is_refused_too(
    client: TestClient, loaded: AppContext, boss: dict[str, str], flows: Path
) -> None:
    body = {**NEW, "voice": {"flow": str(flows.parent / "outside.yaml")}}
    [(loc, msg)] = problems(client.post("/api/campaigns", json=body, headers=boss))
    assert loc == ["body", "voice", "flow"] and "not an absolute path" in msg


def test_a_fifo_as_voice_flow_is_refused_without_reading_it(
    client: TestClient, loaded: AppContext, boss: dict[str, str], flows: Path
) -> None:
    writer = FifoWriter(flows / "pipe.yaml")
    try:
        body = {**NEW, "voice": {"flow": "pipe.yaml"}}
        [(loc, msg)] = problems(client.post("/api/campaigns", json=body, headers=boss))
    finally:
        writer.close()
    assert loc == ["body", "voice", "flow"] and "not a regular file" in msg
    assert client.get("/healthz").status_code == 200


def test_a_flow_in_the_flows_folder_is_accepted_and_answers_calls(
    client: TestClient, loaded: AppContext, boss: dict[str, str]
) -> None:
    body = {**NEW, "voice": {"flow": "radio.yaml"}}
    created = client.post("/api/campaigns", json=body, headers=boss)
    assert created.status_code == 201, created.text
    prompts = said(Caller(client, "+994502000777").start())
    assert prompts and not any("Sorry" in p for p in prompts)


def test_a_stored_reference_that_escapes_its_folder_is_not_played(
    client: TestClient, loaded: AppContext, flows: Path
) -> None:
    # A row written before references were checked: the call apologises, the file is not used.
    loaded.clock = lambda: OPEN
    with loaded.sessions.begin() as session:
        row = session.scalar(select(Campaign).where(Campaign.code == "AZ-RADIO-IDMAN-2027"))
        assert row is not None
        outside = str(flows.parent / "outside.yaml")
        row.options = {**row.options, "voice": {"flow": outside}}
    prompts = said(Caller(client, "+994125550101").start())
    assert any("Sorry, something went wrong" in p for p in prompts)


def test_without_a_flows_folder_voice_flows_are_refused(
    client: TestClient, loaded: AppContext, boss: dict[str, str]
) -> None:
    loaded.settings = loaded.settings.model_copy(update={"flows_dir": "", "campaigns_file": ""})
    body = {**NEW, "voice": {"flow": "radio.yaml"}}
    [(loc, msg)] = problems(client.post("/api/campaigns", json=body, headers=boss))
    assert loc == ["body", "voice", "flow"] and "OUTREACH_FLOWS_DIR" in msg


def test_a_keyword_of_another_campaign_on_the_same_number_is_refused(
    client: TestClient, loaded: AppContext, boss: dict[str, str]
) -> None:
    body = {**NEW, "numbers": [FLYER], "keywords": [{"keyword": "İŞ", "language": "az"}]}
    [(loc, msg)] = problems(client.post("/api/campaigns", json=body, headers=boss))
    assert loc == ["body", "keywords", 0, "keyword"]
    assert "already used by campaign AZ-FLYER-BAKU-2027" in msg
    # The flyer keeps its replies.
    reply = sms(client, "iş", to=FLYER, sender="+994501234567", sid="SM" + "9" * 32)
    assert reply.startswith("Xaricdə iş?")


def test_an_update_is_checked_against_the_other_campaigns_but_not_itself(
    client: TestClient, loaded: AppContext, boss: dict[str, str]
) -> None:
    news = client.get("/api/campaigns/AZ-NEWS-XALQ-2027", headers=boss).json()
    taken = {**news, "keywords": [*news["keywords"], {"keyword": "Work", "language": "en"}]}
    [(loc, msg)] = problems(
        client.put("/api/campaigns/AZ-NEWS-XALQ-2027", json=taken, headers=boss)
    )
    assert loc == ["body", "keywords", 3, "keyword"] and "AZ-FLYER-BAKU-2027" in msg
    renamed = {**news, "name": "Xalq qəzeti, page 2"}
    assert (
        client.put("/api/campaigns/AZ-NEWS-XALQ-2027", json=renamed, headers=boss).status_code
        == 200
    )


@pytest.mark.parametrize(
    ("change", "where", "message"),
    [
        ({"replies": {}}, ["body", "replies"], "reply missing for declared language 'az'"),
        (
            {"replies": {**NEW["replies"], "en": "Free"}},
            ["body", "replies", "en"],
            "reply in undeclared language 'en'",
        ),
        (
            {"keywords": [{"keyword": "!!!", "language": "az"}]},
            ["body", "keywords", 0, "keyword"],
            "has no letters or digits",
        ),
        (
            {"keywords": [{"keyword": "two words", "language": "az"}]},
            ["body", "keywords", 0, "keyword"],
            "must be a single word",
        ),
        (
            {"keywords": [{"keyword": "təqvim", "language": "en"}]},
            ["body", "keywords", 0, "language"],
            "is not declared",
        ),
        ({"numbers": []}, ["body", "numbers"], "keywords need at least one number"),
        ({"psa_codes": ["101"]}, ["body", "psa_codes", 0], "already used by campaign"),
        ({"numbers": ["+994125550100"]}, ["body", "numbers", 0], "shared hotline number"),
        ({"end": "2026-01-01"}, ["body", "end"], "before it starts"),
        ({"source_dir": "/"}, ["body", "source_dir"], "set by the service"),
    ],
)
def test_the_campaigns_validator_rules_apply_to_the_api(
    client: TestClient,
    loaded: AppContext,
    boss: dict[str, str],
    change: dict[str, Any],
    where: list[Any],
    message: str,
) -> None:
    found = problems(client.post("/api/campaigns", json={**NEW, **change}, headers=boss))
    assert any(loc == where and message in msg for loc, msg in found), found
    assert NEW["code"] not in codes(client, boss)


@pytest.mark.parametrize("cost", ["Infinity", "-Infinity", "NaN", "-500", "1e20", "0.001"])
def test_bad_costs_are_refused_by_the_api(
    client: TestClient, loaded: AppContext, boss: dict[str, str], cost: str
) -> None:
    as_string = problems(client.post("/api/campaigns", json={**NEW, "cost": cost}, headers=boss))
    assert all(loc == ["body", "cost"] for loc, _ in as_string)
    raw = json.dumps(NEW)[:-1] + f', "cost": {cost}}}'
    headers = {**boss, "Content-Type": "application/json"}
    assert client.post("/api/campaigns", content=raw, headers=headers).status_code == 422


def test_a_campaign_naming_no_time_zone_gets_the_configured_default(
    client: TestClient, loaded: AppContext, boss: dict[str, str]
) -> None:
    loaded.settings = loaded.settings.model_copy(update={"default_timezone": "Europe/London"})
    created = client.post("/api/campaigns", json=NEW, headers=boss)
    assert created.status_code == 201, created.text
    assert created.json()["timezone"] == "Europe/London"
    named = {**NEW, "code": "AZ-CALENDAR-2028", "numbers": ["+994502000778"]}
    named["timezone"] = "Asia/Tbilisi"
    assert client.post("/api/campaigns", json=named, headers=boss).json()["timezone"] == (
        "Asia/Tbilisi"
    )


def test_unknown_campaigns_and_mismatched_codes(
    client: TestClient, loaded: AppContext, boss: dict[str, str]
) -> None:
    assert client.get("/api/campaigns/NOPE", headers=boss).status_code == 404
    assert (
        client.put("/api/campaigns/NOPE", json={**NEW, "code": "NOPE"}, headers=boss).status_code
        == 404
    )
    [(loc, _)] = problems(client.put("/api/campaigns/AZ-X", json=NEW, headers=boss))
    assert loc == ["body", "code"]
    assert client.get("/api/campaigns/" + "A" * 65, headers=boss).status_code == 422


@pytest.fixture
def viewer(loaded: AppContext) -> Iterator[dict[str, str]]:
    yield {"Authorization": f"Bearer {make_user(loaded, 'ana', Role.VIEWER)}"}


def test_viewers_cannot_save(client: TestClient, viewer: dict[str, str]) -> None:
    assert client.post("/api/campaigns", json=NEW, headers=viewer).status_code == 403


def test_routes_that_read_flow_files_run_in_the_threadpool() -> None:
    # A flow is read by a campaign save (its check) and a FLOIP export: sync routes, which
    # FastAPI runs in its threadpool, never on the event loop.
    readers = [
        campaigns_api.create_campaign,
        campaigns_api.update_campaign,
        reports_api.floip_descriptor,
        reports_api.floip_responses,
    ]
    assert not [fn.__name__ for fn in readers if inspect_coroutine(fn)]
    # A call reads its flow inside its unit of work, which `off_the_loop` runs in the thread
    # pool, or inline only on a SQLite file whose writer turn is free (the database file is
    # read on the loop then too; tests/webhooks/test_off_the_loop.py).
    for hook in (voice_hooks.call_entry, voice_hooks.call_step):
        assert inspect_coroutine(hook)
        assert "await off_the_loop(" in pyinspect.getsource(hook), hook.__name__


def test_a_stored_campaign_that_breaks_todays_rules_is_a_409_that_says_why(
    loaded: AppContext, client: TestClient, boss: dict[str, str]
) -> None:
    with loaded.sessions.begin() as session:
        row = session.scalar(select(Campaign).where(Campaign.code == DEMO_CODES[0]))
        assert row is not None
        row.languages = ["xx"]  # written before the language list existed
    answer = client.get(f"/api/campaigns/{DEMO_CODES[0]}", headers=boss)
    assert answer.status_code == 409
    assert "breaks today's rules" in answer.json()["detail"]
