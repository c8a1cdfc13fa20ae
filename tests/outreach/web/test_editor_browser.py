"""Campaign editing in a real headless Chromium (Debian chromium): create a campaign that then
answers a signed SMS, edit its reply, see a keyword collision and segment counts while typing,
a stale save conflict, the audit log, the az interface, a viewer who can change nothing, and a
phone layout where nothing scrolls sideways. Screenshots go to test-artifacts/."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest
from twilio.request_validator import RequestValidator

from outreach.web.auth.models import Role
from tests.support.app import DEMO_FILE
from tests.support.browser import TOKEN, csp_violations, needs_browser, run_service, screenshot
from tests.support.browser import browser as browser  # the fixture, re-exported for pytest
from tests.support.browser import login as browser_login

NUMBER = "+994502000999"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}

pytestmark = needs_browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Loads the demo campaigns, then runs the real service with uvicorn on a free port."""
    with run_service(
        tmp_path_factory.mktemp("editor-browser"),
        users={"boss": Role.MANAGER, "ana": Role.VIEWER, "aysel": Role.MANAGER},
        env={"OUTREACH_FLOWS_DIR": str(DEMO_FILE.parent)},
    ) as base:
        yield base


def login(browser: Any, base: str, user: str, viewport: dict[str, int] = DESKTOP) -> Any:
    return browser_login(browser, base, user, viewport=viewport)


def sms(base: str, body: str, sid: str) -> str:
    """Sends a signed Twilio SMS webhook to the campaign's number; returns the reply text."""
    form = {"MessageSid": sid, "From": "+994551230000", "To": NUMBER, "Body": body}
    url = f"{base}/twilio/sms"
    signature = RequestValidator(TOKEN).compute_signature(url, form)
    response = httpx.post(url, data=form, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200, response.text
    return "".join(m.text or "" for m in ElementTree.fromstring(response.text).iter("Message"))


def fill_new_campaign(page: Any, base: str, code: str, number: str, keyword: str) -> None:
    page.goto(f"{base}/dashboard/manage/campaigns/new")
    page.fill("input[name=code]", code)
    page.fill("input[name=name]", f"Stickers {code}")
    page.select_option("select[name=medium]", "sticker")
    page.fill("input[name=start]", "2026-01-01")
    page.fill("input[name=end]", "2027-12-31")
    page.uncheck("input[name=lang-az]")
    page.uncheck("input[name=lang-ru]")
    page.fill("textarea[name=numbers]", number)
    page.fill("input[name=keywords-en]", keyword)
    page.fill("textarea[name=reply-en]", "Free advice: +994125550100")


def test_a_campaign_made_in_the_browser_answers_sms_and_an_edit_changes_the_reply(
    browser: Any, server: str
) -> None:
    page = login(browser, server, "boss")
    fill_new_campaign(page, server, "AZ-STICKER-2027", NUMBER, "sticker")
    # The live check answers each pause in typing: the last answer counts the reply's segments
    # and finds nothing wrong.
    from playwright.sync_api import expect

    expect(page.locator("[data-testid=seg-reply-en]")).to_have_text("1 segment(s), GSM-7, 26 units")
    expect(page.locator("[data-testid=check-ok]")).to_be_visible()
    screenshot(page, "editor-new-desktop")
    page.click("[data-testid=save]")
    page.wait_for_selector("[data-testid=saved]")
    assert sms(server, "STICKER please", "SM" + "1" * 32) == "Free advice: +994125550100"

    page.fill("textarea[name=reply-en]", "New reply: call +994125550100 (Mon-Fri)")
    page.click("[data-testid=save]")
    page.wait_for_selector("[data-testid=saved]")
    assert sms(server, "sticker", "SM" + "2" * 32) == "New reply: call +994125550100 (Mon-Fri)"
    assert csp_violations(page) == []


def test_a_keyword_collision_is_shown_before_saving(browser: Any, server: str) -> None:
    page = login(browser, server, "boss")
    # The flyer owns "work" on +994502000101; "WÖRK" folds to it.
    fill_new_campaign(page, server, "AZ-CLASH-2027", "+994502000101", "WÖRK")
    slot = page.locator("[data-testid=err-keywords-en]")
    slot.filter(has_text="already used by campaign AZ-FLYER-BAKU-2027").wait_for()
    screenshot(page, "editor-collision-desktop")
    page.goto(f"{server}/dashboard/manage/campaigns")
    assert "AZ-CLASH-2027" not in page.content()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_live_checks_answer_never_moves_the_save_button(
    browser: Any, server: str, viewport: dict[str, int]
) -> None:
    """The check answers each pause in typing; a click on Save that lands as its answer arrives
    must still hit Save (CI once saw a click miss when the answer pushed the button down)."""
    page = login(browser, server, "boss", viewport)
    page.goto(f"{server}/dashboard/manage/campaigns/AZ-POSTER-NAKH-2027")
    save = page.locator("[data-testid=save]")
    before = save.bounding_box()
    page.fill("input[name=region]", "Ordubad")
    page.locator("[data-testid=check-ok]").wait_for()
    assert save.bounding_box() == before
    # A problem adds lines next to fields above the button, and the problem count beside it.
    page.fill("input[name=start]", "2028-01-01")
    page.locator("[data-testid=check-problems]").wait_for()
    assert save.bounding_box() == before


def test_a_stale_save_gets_the_conflict_message(browser: Any, server: str) -> None:
    first = login(browser, server, "boss")
    second = login(browser, server, "boss")
    path = f"{server}/dashboard/manage/campaigns/AZ-POSTER-NAKH-2027"
    first.goto(path)
    second.goto(path)
    first.fill("input[name=region]", "Ordubad")
    first.click("[data-testid=save]")
    first.wait_for_selector("[data-testid=saved]")
    second.fill("input[name=region]", "Culfa")
    second.click("[data-testid=save]")
    message = second.locator("[data-testid=message]").inner_text()
    assert "was changed by boss through the browser" in message
    assert second.input_value("input[name=region]") == "Culfa"  # nothing typed is lost
    screenshot(second, "editor-conflict-desktop")


def test_the_audit_log_shows_the_changes(browser: Any, server: str) -> None:
    page = login(browser, server, "boss")
    page.goto(f"{server}/dashboard/manage/campaigns/AZ-TV-ITV-2027")
    page.fill("input[name=name]", "Know before you go - TV spot, ITV (audited)")
    page.click("[data-testid=save]")
    page.wait_for_selector("[data-testid=saved]")
    page.goto(f"{server}/dashboard/audit?kind=campaign&target=AZ-TV-ITV-2027")
    row = page.locator("[data-testid=audit] tbody tr").first
    text = row.inner_text()
    assert "boss" in text and "browser" in text and "update" in text
    assert "(audited)" in text and "Know before you go - TV spot, ITV" in text
    screenshot(page, "audit-desktop")


def test_a_viewer_sees_no_edit_controls_and_a_forged_post_is_refused(
    browser: Any, server: str
) -> None:
    page = login(browser, server, "ana")
    page.goto(f"{server}/dashboard/manage/campaigns/AZ-FLYER-BAKU-2027")
    assert page.locator("[data-testid=save]").count() == 0
    assert page.locator("input[name=name]").is_disabled()
    assert page.locator("text=Archive").count() == 0
    csrf = page.locator("input[name=csrf_token]").first.input_value()
    forged = page.request.post(
        f"{server}/dashboard/manage/campaigns/AZ-FLYER-BAKU-2027/delete",
        form={"csrf_token": csrf},
    )
    assert forged.status == 403
    page.goto(f"{server}/dashboard/manage/campaigns")
    assert "AZ-FLYER-BAKU-2027" in page.content()
    screenshot(page, "editor-viewer-desktop")


def test_the_az_interface_renders(browser: Any, server: str) -> None:
    page = login(browser, server, "aysel")
    page.goto(f"{server}/dashboard/me")
    page.select_option("[data-testid=language]", "az")
    page.click("[data-testid=save-language]")
    page.goto(f"{server}/dashboard/manage/campaigns/AZ-FLYER-BAKU-2027")
    assert page.locator("html").get_attribute("lang") == "az"
    nav = page.locator("header nav").inner_text()
    assert "Kampaniyalar" in nav and "Dəyişiklik jurnalı" in nav
    assert page.locator("[data-testid=save]").inner_text() == "Yadda saxla"
    screenshot(page, "editor-az-desktop")


@pytest.mark.parametrize(
    "path",
    [
        "/dashboard",
        "/dashboard/channels",
        "/dashboard/lift",
        "/dashboard/campaigns/AZ-RADIO-IDMAN-2027",
        "/dashboard/manage/campaigns",
        "/dashboard/manage/campaigns/AZ-NEWS-XALQ-2027",
        "/dashboard/users",
        "/dashboard/audit",
    ],
)
def test_nothing_scrolls_sideways_on_a_phone(browser: Any, server: str, path: str) -> None:
    page = login(browser, server, "boss", viewport=PHONE)
    page.goto(server + path)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{path} is {width}px wide"
    who = page.locator("[data-testid=me]")
    assert who.is_visible() and who.bounding_box()["width"] > 40
    name = path.strip("/").replace("/", "-")
    screenshot(page, f"phone-{name}")
