# ruff: noqa: F811 (the `web` fixture imported from tests.support.reports)
"""Each number's channel (Twilio, Kannel, HTTP) set in the campaign form, exported and loaded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select

from campaigns.audit.models import AuditEntry
from campaigns.registry.channels import gateway_of
from campaigns.registry.documents import document
from campaigns.registry.export import collect, write
from campaigns.registry.models import Campaign
from campaigns.registry.service import load_file
from outreach.core.context import AppContext
from outreach.core.settings import Settings
from outreach.web.auth.models import Role
from tests.support.app import DEMO_FILE, make_settings
from tests.support.forms import form_fields
from tests.support.reports import login, make_user, web  # noqa: F401

EDIT = "/dashboard/manage/campaigns"
SMS_1, SMS_2 = "+994502000888", "+994502000889"
NEW = {
    "code": "AZ-STICKER-2027",
    "name": "Stickers",
    "medium": "sticker",
    "start": "2027-01-01",
    "end": "2027-06-30",
    "lang-en": "1",
    "numbers": f"{SMS_1}\n{SMS_2}",
    "keywords-en": "sticker",
    "reply-en": "Free advice: +994125550100",
    "channel-new": "kannel",
    f"channel-{SMS_2}": "http",
}


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url, flows_dir=str(DEMO_FILE.parent))


@pytest.fixture
def manager(loaded: AppContext, web: TestClient) -> TestClient:
    make_user(loaded, "maria", Role.MANAGER)
    assert login(web, "maria").status_code == 303
    return web


def stored(ctx: AppContext, code: str) -> dict[str, Any]:
    with ctx.sessions() as session:
        row = session.scalar(select(Campaign).where(Campaign.code == code))
        assert row is not None
        return document(row)


def gateways(ctx: AppContext, *numbers: str) -> list[str]:
    with ctx.sessions() as session:
        return [str(gateway_of(session, n)) for n in numbers]


def create(client: TestClient) -> None:
    csrf = form_fields(client.get(f"{EDIT}/new").text, "campaign-form")["csrf_token"]
    saved = client.post(f"{EDIT}/new", data={**NEW, "csrf_token": csrf}, follow_redirects=False)
    assert saved.status_code == 303, saved.text


def test_numbers_channels_are_created_and_edited_in_the_form(
    loaded: AppContext, manager: TestClient
) -> None:
    create(manager)
    code = NEW["code"]
    assert stored(loaded, code)["channels"] == {SMS_1: "kannel", SMS_2: "http"}
    assert gateways(loaded, SMS_1, SMS_2) == ["kannel", "http"]
    fields = form_fields(manager.get(f"{EDIT}/{code}").text, "campaign-form")
    assert (fields[f"channel-{SMS_1}"], fields[f"channel-{SMS_2}"]) == ("kannel", "http")
    saved = manager.post(f"{EDIT}/{code}", data={**fields, f"channel-{SMS_1}": "twilio"})
    assert saved.status_code == 200, saved.text
    after = stored(loaded, code)
    assert after["channels"] == {SMS_2: "http"} and after["version"] == 2
    assert gateways(loaded, SMS_1, SMS_2) == ["twilio", "http"]
    with loaded.sessions() as session:
        [entry] = session.scalars(
            select(AuditEntry).where(AuditEntry.target == code, AuditEntry.action == "update")
        )
        assert (entry.actor, entry.interface) == ("maria", "browser")
        assert entry.before["channels"] == {SMS_1: "kannel", SMS_2: "http"}  # type: ignore[index]
        assert entry.after["channels"] == {SMS_2: "http"}  # type: ignore[index]


def test_a_number_has_one_channel(loaded: AppContext, manager: TestClient) -> None:
    # The flyer shares +994502000101 with the newspaper ad, which reaches it through Twilio.
    code, shared = "AZ-FLYER-BAKU-2027", "+994502000101"
    fields = form_fields(manager.get(f"{EDIT}/{code}").text, "campaign-form")
    refused = manager.post(f"{EDIT}/{code}", data={**fields, f"channel-{shared}": "kannel"})
    assert refused.status_code == 422
    assert "reached through twilio for campaign AZ-NEWS-XALQ-2027" in refused.text
    assert gateways(loaded, shared) == ["twilio"] and stored(loaded, code)["channels"] == {}


def test_export_writes_the_channels_block_and_loading_it_changes_nothing(
    loaded: AppContext, manager: TestClient, tmp_path: Path
) -> None:
    create(manager)
    target = tmp_path / "campaigns.yaml"
    with loaded.sessions() as session:
        write(collect(session, loaded.settings), target)
    data = yaml.safe_load(target.read_text(encoding="utf-8"))
    assert data["channels"] == {"kannel": [SMS_1], "http": [SMS_2]}
    assert all("channels" not in entry for entry in data["campaigns"])
    before = stored(loaded, NEW["code"])
    with loaded.sessions.begin() as session:
        result = load_file(session, target)
    assert result.created == [] and result.updated == []
    assert stored(loaded, NEW["code"]) == before
    assert gateways(loaded, SMS_1, SMS_2) == ["kannel", "http"]


def test_office_hours_of_the_flow_file_are_shown_read_only_with_a_link(
    manager: TestClient,
) -> None:
    # The radio spot's flow (flows/radio.yaml) sets its consultant's hours; the campaign none.
    page = manager.get(f"{EDIT}/AZ-RADIO-IDMAN-2027")
    assert page.status_code == 200
    hours = page.text.split('data-testid="office-hours"', 1)[1].split("</div>", 1)[0]
    assert "mon, tue, wed, thu, fri 09:00–18:00 (Asia/Baku)" in hours
    assert 'href="/dashboard/flows"' in hours and "<input" not in hours
    flyer = manager.get(f"{EDIT}/AZ-FLYER-BAKU-2027")  # no voice flow: nothing to show
    assert 'data-testid="office-hours"' not in flyer.text
