# ruff: noqa: F811 (the `web` fixture imported from tests.support.reports)
"""Campaign pages: every field of the YAML round-trips through the form, the one validator's
errors sit next to their fields, stale saves conflict, and viewers can change nothing."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select

from campaigns.audit.models import AuditEntry
from campaigns.registry.documents import document
from campaigns.registry.models import Campaign
from outreach.core.context import AppContext
from outreach.core.settings import Settings
from outreach.web.auth.models import Role
from tests.support.app import DEMO_FILE, make_settings
from tests.support.forms import form_fields
from tests.support.reports import csrf_of, login, make_user, web  # noqa: F401

DEMO_CODES = [c["code"] for c in yaml.safe_load(DEMO_FILE.read_text(encoding="utf-8"))["campaigns"]]
EDIT = "/dashboard/manage/campaigns"
NEW = {
    "code": "AZ-STICKER-2027",
    "name": "Stickers",
    "medium": "sticker",
    "start": "2027-01-01",
    "end": "2027-06-30",
    "lang-az": "1",
    "lang-en": "1",
    "numbers": "+994502000888",
    "keywords-az": "stiker",
    "keywords-en": "sticker",
    "reply-az": "Pulsuz məlumat: +994125550100",
    "reply-en": "Free advice: +994125550100",
}


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url, flows_dir=str(DEMO_FILE.parent))


@pytest.fixture
def manager(loaded: AppContext, web: TestClient) -> TestClient:
    make_user(loaded, "maria", Role.MANAGER)
    assert login(web, "maria").status_code == 303
    return web


def stored(ctx: AppContext, code: str) -> dict[str, Any] | None:
    with ctx.sessions() as session:
        row = session.scalar(select(Campaign).where(Campaign.code == code))
        return document(row) if row is not None else None


def form_of(client: TestClient, code: str) -> dict[str, str]:
    page = client.get(f"{EDIT}/{code}")
    assert page.status_code == 200, page.text
    return form_fields(page.text, "campaign-form")


@pytest.mark.parametrize("code", DEMO_CODES)
def test_saving_the_form_as_shown_changes_nothing(
    loaded: AppContext, manager: TestClient, code: str
) -> None:
    before = stored(loaded, code)
    saved = manager.post(f"{EDIT}/{code}", data=form_of(manager, code), follow_redirects=False)
    assert saved.status_code == 303, saved.text
    assert stored(loaded, code) == before


def test_every_field_is_created_from_the_form(loaded: AppContext, manager: TestClient) -> None:
    fields = form_fields(manager.get(f"{EDIT}/new").text, "campaign-form")
    fields.update(
        NEW,
        region="Sumqayit",
        cost="250.50",
        currency="AZN",
        timezone="Asia/Baku",
        psa_codes="301 302",
        **{
            "voice-flow": "flows/radio.yaml",
            "voice-callback": "1",
            "followups-sender": "+994125550100",
            "quiet-start": "22:00",
            "quiet-end": "08:00",
            "series-0-id": "info",
            "series-0-offer": "1",
            "series-0-msg-0-offset": "+2d",
            "series-0-msg-0-at": "10:00",
            "series-0-msg-0-text-az": "Salam",
            "series-0-msg-0-text-en": "Hello",
        },
    )
    fields.pop("lang-ru", None)
    created = manager.post(f"{EDIT}/new", data=fields, follow_redirects=False)
    assert created.status_code == 303, created.text
    doc = stored(loaded, "AZ-STICKER-2027")
    assert doc is not None
    assert doc["languages"] == ["az", "en"] and doc["region"] == "Sumqayit"
    assert str(doc["cost"]) == "250.50" and doc["psa_codes"] == ["301", "302"]
    assert doc["keywords"] == [
        {"keyword": "stiker", "language": "az"},
        {"keyword": "sticker", "language": "en"},
    ]
    assert doc["voice"] == {"flow": "flows/radio.yaml", "missed_call_callback": True}
    assert doc["followups"] == {
        "sender": "+994125550100",
        "quiet_hours": {"start": "22:00", "end": "08:00"},
        "series": [
            {
                "id": "info",
                "offer_keyword_reply": True,
                "messages": [
                    {"offset": "+2d", "at": "10:00", "text": {"az": "Salam", "en": "Hello"}}
                ],
            }
        ],
    }


def test_a_keyword_another_campaign_owns_after_folding_is_shown_next_to_it(
    loaded: AppContext, manager: TestClient
) -> None:
    csrf = csrf_of(manager.get(f"{EDIT}/new").text)
    # "IŞ" folds to "is", the flyer's "iş" on the same number.
    body = {**NEW, "numbers": "+994502000101", "keywords-az": "IŞ", "csrf_token": csrf}
    check = manager.post("/dashboard/manage/check", data=body)
    assert check.status_code == 200
    slot = re.search(r'id="err-keywords-az"[^>]*>([^<]*)<', check.text)
    assert slot is not None
    assert "'IŞ' on +994502000101 is already used by campaign AZ-FLYER-BAKU-2027" in unescape(
        slot.group(1)
    )
    refused = manager.post(f"{EDIT}/new", data=body, follow_redirects=False)
    assert refused.status_code == 422
    assert 'value="IŞ"' in refused.text  # what the manager typed is kept
    assert stored(loaded, "AZ-STICKER-2027") is None


def test_segment_counts_are_shown_for_each_reply(manager: TestClient) -> None:
    csrf = csrf_of(manager.get(f"{EDIT}/new").text)
    check = manager.post(
        "/dashboard/manage/check", data={**NEW, "reply-en": "x" * 161, "csrf_token": csrf}
    )
    assert "2 segment(s), GSM-7, 161 units" in check.text
    assert "1 segment(s), UCS-2, 29 units" in check.text  # the az reply has ə


def test_a_stale_save_gets_the_conflict_message_and_keeps_the_edit(
    loaded: AppContext, manager: TestClient
) -> None:
    code = "AZ-FLYER-BAKU-2027"
    first, second = form_of(manager, code), form_of(manager, code)
    assert manager.post(f"{EDIT}/{code}", data={**first, "name": "First"}).status_code == 200
    stale = manager.post(f"{EDIT}/{code}", data={**second, "name": "Second"})
    assert stale.status_code == 409
    assert "was changed by maria through the browser" in stale.text
    assert 'value="Second"' in stale.text
    assert stored(loaded, code)["name"] == "First"  # type: ignore[index]


def test_archive_and_delete_are_audited(loaded: AppContext, manager: TestClient) -> None:
    code = "AZ-POSTER-NAKH-2027"
    fields = form_of(manager, code)
    manager.post(
        f"{EDIT}/{code}/archive",
        data={"csrf_token": fields["csrf_token"], "version": fields["version"], "archived": "1"},
    )
    assert stored(loaded, code)["archived"] is True  # type: ignore[index]
    confirm = manager.get(f"{EDIT}/{code}/delete")
    assert confirm.status_code == 200 and "Delete campaign AZ-POSTER-NAKH-2027?" in confirm.text
    manager.post(f"{EDIT}/{code}/delete", data={"csrf_token": fields["csrf_token"]})
    assert stored(loaded, code) is None
    with loaded.sessions() as session:
        actions = [
            (e.actor, e.interface, e.action)
            for e in session.scalars(select(AuditEntry).where(AuditEntry.target == code))
        ]
    assert actions[-2:] == [("maria", "browser", "update"), ("maria", "browser", "delete")]


def test_a_viewer_sees_no_edit_controls_and_a_forged_post_is_refused(
    loaded: AppContext, web: TestClient
) -> None:
    make_user(loaded, "vera", Role.VIEWER)
    login(web, "vera")
    code = "AZ-FLYER-BAKU-2027"
    page = web.get(f"{EDIT}/{code}")
    assert page.status_code == 200
    assert "<fieldset disabled>" in page.text and 'data-testid="save"' not in page.text
    assert "/archive" not in page.text and "/delete" not in page.text
    forged = form_fields(page.text, "campaign-form")
    forged["name"] = "Forged"
    assert web.post(f"{EDIT}/{code}", data=forged).status_code == 403
    assert web.post(f"{EDIT}/{code}", data={**forged, "csrf_token": "x"}).status_code == 403
    assert (
        web.post(f"{EDIT}/{code}/delete", data={"csrf_token": forged["csrf_token"]}).status_code
        == 403
    )
    assert stored(loaded, code)["name"] != "Forged"  # type: ignore[index]
