"""The voice-menu editor in a real headless Chromium (Debian's), against a real uvicorn.

A manager breaks a flow and sees the error on its line, fixes it and sees the new node in the
diagram, publishes while a call on the old version goes on, uploads recordings (a text file
named .wav is refused; a real WAV is normalised and played by a signed voice webhook), walks
the simulator; a viewer can open none of it. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest
from twilio.request_validator import RequestValidator

from campaigns.flows.imports import import_file
from outreach.core.context import AppContext
from outreach.web.auth.models import Role
from tests.support.app import ROOT
from tests.support.browser import (
    TOKEN,
    csp_violations,
    login,
    needs_browser,
    run_service,
    screenshot,
)
from tests.support.browser import browser as browser  # the fixture, re-exported for pytest

HOTLINE_FILE = ROOT / "campaigns" / "demo" / "flows" / "hotline.yaml"
HOTLINE = "+994125550100"
DESKTOP = {"width": 1400, "height": 1100}

pytestmark = needs_browser


def _import_hotline(ctx: AppContext) -> None:
    with ctx.sessions.begin() as session:
        import_file(session, HOTLINE_FILE, user="setup", settings=ctx.settings)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("flow-editor")
    with run_service(
        tmp,
        users={"boss": Role.MANAGER, "ana": Role.VIEWER},
        seed=_import_hotline,
        env={"OUTREACH_MEDIA_DIR": str(tmp / "media")},
    ) as base:
        yield base


def _login(browser: Any, base: str, user: str) -> Any:
    return login(browser, base, user, viewport=DESKTOP)


class Phone:
    """A call through the signed voice webhooks of the running service."""

    def __init__(self, base: str, sid: str) -> None:
        self.base, self.sid, self.twiml = base, sid, ""

    def post(self, url: str, **extra: str) -> list[ElementTree.Element]:
        form = {"CallSid": self.sid, "AccountSid": "AC" + "0" * 32, "From": "+994501112233",
                "To": HOTLINE, "Direction": "inbound", "CallStatus": "in-progress"}  # fmt: skip
        form.update(extra)
        signature = RequestValidator(TOKEN).compute_signature(url, form)
        answer = httpx.post(url, data=form, headers={"X-Twilio-Signature": signature})
        assert answer.status_code == 200, answer.text
        self.twiml = answer.text
        return list(ElementTree.fromstring(answer.text))

    def start(self) -> list[ElementTree.Element]:
        return self.post(f"{self.base}/twilio/voice", CallStatus="ringing")

    def press(self, digits: str) -> list[ElementTree.Element]:
        gather = next(v for v in ElementTree.fromstring(self.twiml) if v.tag == "Gather")
        return self.post(gather.get("action", ""), Digits=digits)


def _said(verbs: list[ElementTree.Element]) -> list[str]:
    return [(e.text or "").strip() for v in verbs for e in v.iter() if e.tag in ("Say", "Play")]


def _edit(page: Any, old: str, new: str) -> None:
    """Replaces text in the CodeMirror document as typing would (the change listener runs)."""
    page.evaluate(
        """([old, neu]) => {
          const view = document.getElementById('flow-editor-page').editorView;
          const at = view.state.doc.toString().indexOf(old);
          if (at < 0) throw new Error('not found: ' + old);
          view.dispatch({changes: {from: at, to: at + old.length, insert: neu}});
        }""",
        [old, new],
    )


NEW_NODE = """    next: extra

  extra:
    kind: message
    label: Browser-made node
    prompt:
      az: {text: "Yeni mesaj."}
      ru: {text: "Новое сообщение."}
      en: {text: "A message added in the browser."}
    next: psa
"""


def _walk_to_goodbye(page: Any) -> None:
    """In the simulator, after its first menu: language -> topic (after a timeout) -> goodbye,
    waiting for each prompt."""
    walk = [("3", "If you heard a code"), ("", "For legal work abroad"),
            ("1", "Work abroad only with"), ("9", "Thank you for calling. Goodbye!")]  # fmt: skip
    for keys, expect in walk:
        if keys:
            page.fill("#sim-digits", keys)
            page.click("#sim-send")
        else:
            page.click("#sim-timeout")
        page.locator("#sim-log").locator(f"text={expect}").first.wait_for()


def test_a_manager_builds_records_publishes_and_simulates(
    browser: Any, server: str, tmp_path: Path
) -> None:
    page = _login(browser, server, "boss")
    page.click("nav >> text=Voice menus")
    page.click("a:text('hotline')")
    page.locator(".cm-editor").wait_for()
    page.locator("#node-intro").wait_for()

    source = HOTLINE_FILE.read_text(encoding="utf-8")
    line = source.splitlines().index("    next: psa") + 1
    _edit(page, "    next: psa\n", "    next: nowhere\n")
    error = page.locator(f"#issues li[data-line='{line}']")
    error.wait_for()
    assert "unknown node 'nowhere'" in error.inner_text()
    marker = page.locator(".cm-gutter-lint .cm-lint-marker-error")
    marker.first.wait_for(state="attached")
    assert page.locator("#node-intro.dangling").count() == 1
    screenshot(page, "flow-editor-error", full_page=False)

    _edit(page, "    next: nowhere\n", NEW_NODE)
    page.locator("#node-extra").wait_for()
    assert page.locator("#issues-summary").inner_text() == "No errors"
    assert "no recording: prompt/az" in page.locator("#node-extra").inner_text()
    screenshot(page, "flow-editor-fixed", full_page=False)

    # A call starts on version 1 (live); the manager saves and publishes version 2.
    old = Phone(server, "CA" + "1" * 32)
    old.start()
    page.click("#save")
    page.wait_for_url("**version=2**")
    page.click("tr[data-version='2'] button.publish")
    page.wait_for_url("**done=published-2**")
    assert "live" in page.locator("tr[data-version='2']").inner_text()
    assert "A message added in the browser." not in _said(old.press("3"))
    new = Phone(server, "CA" + "2" * 32)
    new.start()
    assert "A message added in the browser." in _said(new.press("3"))

    # Recordings: a text file named .wav is refused, a real WAV accepted and normalised.
    row = page.locator("tr[data-slot='extra/prompt/az']")
    fake = tmp_path / "fake.wav"
    fake.write_text("not audio at all\n")
    row.locator("input[type=file]").set_input_files(str(fake))
    row.locator("button").click()
    row.locator(".upload-result.error").wait_for()
    assert "not a WAV or MP3" in row.locator(".upload-result").inner_text()
    real = tmp_path / "real.wav"
    subprocess.run(["sox", "-n", "-r", "44100", "-c", "2", str(real), "synth", "1", "sine", "300"],
                   check=True)  # fmt: skip
    row.locator("input[type=file]").set_input_files(str(real))
    row.locator("button").click()
    page.wait_for_url("**done=recorded-3**")
    audio = page.locator("tr[data-slot='extra/prompt/az'] audio")
    src = audio.get_attribute("src")
    assert src and src.startswith("/media/")
    duration = page.evaluate(
        """(src) => new Promise((ok, no) => { const a = new Audio(src);
             a.addEventListener('loadedmetadata', () => ok(a.duration));
             a.addEventListener('error', no); })""",
        src,
    )
    assert 0.9 < float(duration) < 1.1  # the browser plays the normalised file
    page.click("tr[data-version='3'] button.publish")
    page.wait_for_url("**done=published-3**")
    azeri = Phone(server, "CA" + "3" * 32)
    azeri.start()
    assert f"{server}{src}" in _said(azeri.press("1"))  # <Play> of its URL
    screenshot(page, "flow-editor-recordings")

    # The simulator: language -> topic -> goodbye, each prompt shown.
    page.click("#sim-dial")
    log = page.locator("#sim-log")
    log.locator("text=For English, press 3.").wait_for()
    _walk_to_goodbye(page)
    log.locator(".ended").wait_for()
    page.select_option("#sms-to", "+994502000101")
    page.fill("#sms-body", "İŞ")
    page.click("#sms-send")
    page.locator("#sms-log .sms-in").wait_for()
    assert "Xaricdə iş?" in page.locator("#sms-log .sms-in").inner_text()
    assert csp_violations(page) == []
    screenshot(page.locator(".simulator"), "flow-editor-simulator", full_page=False)


def test_a_viewer_can_open_none_of_the_editor(browser: Any, server: str) -> None:
    page = _login(browser, server, "ana")
    assert page.locator("nav >> text=Voice menus").count() == 0
    for path in ("/dashboard/flows", "/dashboard/flows/hotline"):
        answer = page.goto(f"{server}{path}")
        assert answer.status == 403
    screenshot(page, "flow-editor-viewer", full_page=False)


def test_the_checks_answer_never_moves_the_save_button(browser: Any, server: str) -> None:
    """Each pause in typing brings the check's list of errors; Save must stay where it was, so
    a click as the list arrives still saves (the campaign editor's CI failure, here prevented)."""
    page = _login(browser, server, "boss")
    page.goto(f"{server}/dashboard/flows/hotline")
    page.locator("#node-intro").wait_for()
    before = _page_boxes(page, "#save")
    _edit(page, "    next: psa\n", "    next: nowhere\n")
    page.locator("#issues li").first.wait_for()
    assert page.locator("#issues li").count() >= 1
    assert _page_boxes(page, "#save") == before
    _edit(page, "    next: nowhere\n", "    next: psa\n")
    page.locator("#issues li").first.wait_for(state="detached")
    assert _page_boxes(page, "#save") == before


def _page_boxes(page: Any, *selectors: str) -> list[list[float]]:
    """Where elements are on the page (not in the window, which a click may scroll)."""
    return page.evaluate(
        """(selectors) => selectors.map((s) => {
          const r = document.querySelector(s).getBoundingClientRect();
          return [r.left + window.scrollX, r.top + window.scrollY, r.width, r.height];
        })""",
        list(selectors),
    )


def test_the_simulators_turns_never_move_its_buttons(browser: Any, server: str) -> None:
    """The call log scrolls in a box of its own and the key controls are always there (disabled
    between calls): turns that arrive move neither Send keys nor the SMS pane's Send."""
    page = _login(browser, server, "boss")
    page.goto(f"{server}/dashboard/flows/hotline")
    page.locator("#node-intro").wait_for()
    send = page.locator("#sim-send")
    assert send.is_disabled()
    before = _page_boxes(page, "#sim-send", "#sms-send")
    page.click("#sim-dial")
    log = page.locator("#sim-log")
    log.locator("text=For English, press 3.").wait_for()
    assert send.is_enabled()
    _walk_to_goodbye(page)  # more turns than the box holds
    log.locator(".ended").wait_for()
    assert send.is_disabled()
    assert _page_boxes(page, "#sim-send", "#sms-send") == before
    # The newest turn is scrolled into view at the box's foot.
    assert page.evaluate(
        """() => {
          const b = document.getElementById('sim-log');
          const atFoot = b.scrollTop + b.clientHeight >= b.scrollHeight - 1;
          return b.scrollHeight > b.clientHeight && atFoot;
        }"""
    )
