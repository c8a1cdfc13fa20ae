# ruff: noqa: F811 (the `web` fixture imported from tests.support.reports)
"""Archiving a campaign in the browser turns it off; restoring turns it back on."""

from __future__ import annotations

from xml.etree import ElementTree

import pytest
from fastapi.testclient import TestClient

from outreach.core.context import AppContext
from outreach.core.settings import Settings
from outreach.web.auth.models import Role
from tests.support.app import DEMO_FILE, make_settings, signed_post
from tests.support.forms import form_fields
from tests.support.reports import login, make_user, web  # noqa: F401

EDIT = "/dashboard/manage/campaigns"
FLYER, FLYER_NUMBER = "AZ-FLYER-BAKU-2027", "+994502000101"
RADIO, RADIO_NUMBER = "AZ-RADIO-IDMAN-2027", "+994125550101"
CALLER = "+994551234567"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url, flows_dir=str(DEMO_FILE.parent))


@pytest.fixture
def manager(loaded: AppContext, web: TestClient) -> TestClient:
    make_user(loaded, "maria", Role.MANAGER)
    assert login(web, "maria").status_code == 303
    return web


def sms(client: TestClient, body: str, to: str, sid: str) -> str:
    params = {"MessageSid": sid, "From": CALLER, "To": to, "Body": body}
    response = signed_post(client, "/twilio/sms", params)
    assert response.status_code == 200, response.text
    return "".join(m.text or "" for m in ElementTree.fromstring(response.text).iter("Message"))


def call(client: TestClient, to: str, sid: str) -> str:
    params = {"CallSid": sid, "From": CALLER, "To": to, "Direction": "inbound"}
    response = signed_post(client, "/twilio/voice", params)
    assert response.status_code == 200, response.text
    return str(response.text)


def set_archived(client: TestClient, code: str, archived: bool) -> None:
    fields = form_fields(client.get(f"{EDIT}/{code}").text, "campaign-form")
    response = client.post(
        f"{EDIT}/{code}/archive",
        data={
            "csrf_token": fields["csrf_token"],
            "version": fields["version"],
            "archived": "1" if archived else "0",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def test_an_archived_campaign_answers_no_text_and_no_call_until_restored(
    manager: TestClient,
) -> None:
    assert sms(manager, "work", FLYER_NUMBER, "SM" + "1" * 32).startswith("Work abroad?")
    assert "not in service" not in call(manager, RADIO_NUMBER, "CA" + "1" * 32)
    set_archived(manager, FLYER, True)
    set_archived(manager, RADIO, True)
    unmatched = sms(manager, "work", FLYER_NUMBER, "SM" + "2" * 32)
    # The organisation's unmatched reply, listing the newspaper's keyword but no more the flyer's
    assert unmatched == "Pulsuz, anonim məlumat üçün yazın: QƏZET. Zəng: +994125550100"
    assert "not in service" in call(manager, RADIO_NUMBER, "CA" + "2" * 32)
    set_archived(manager, FLYER, False)
    set_archived(manager, RADIO, False)
    assert sms(manager, "work", FLYER_NUMBER, "SM" + "3" * 32).startswith("Work abroad?")
    assert "not in service" not in call(manager, RADIO_NUMBER, "CA" + "3" * 32)


def test_an_archived_campaigns_keywords_collide_with_nothing(manager: TestClient) -> None:
    set_archived(manager, FLYER, True)
    fields = form_fields(manager.get(f"{EDIT}/new").text, "campaign-form")
    new = {
        "csrf_token": fields["csrf_token"],
        "code": "AZ-STICKER-2027",
        "name": "Stickers",
        "medium": "sticker",
        "start": "2027-01-01",
        "end": "2027-06-30",
        "lang-en": "1",
        "numbers": FLYER_NUMBER,
        "keywords-en": "work",
        "reply-en": "Sticker advice: +994125550100",
    }
    saved = manager.post(f"{EDIT}/new", data=new, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    assert sms(manager, "work", FLYER_NUMBER, "SM" + "4" * 32) == "Sticker advice: +994125550100"
    # Restoring the flyer now collides with the sticker campaign's keyword: refused, stays off.
    fields = form_fields(manager.get(f"{EDIT}/{FLYER}").text, "campaign-form")
    restore = manager.post(
        f"{EDIT}/{FLYER}/archive",
        data={"csrf_token": fields["csrf_token"], "version": fields["version"], "archived": "0"},
    )
    assert restore.status_code == 422
    assert "already used by campaign AZ-STICKER-2027" in restore.text
