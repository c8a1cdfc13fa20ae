"""The voice-menu editor in a real headless Chromium (Debian's), against a real uvicorn.

A manager breaks a flow and sees the error on its line, fixes it and sees the new node in the
diagram, publishes while a call on the old version goes on, uploads recordings (a text file
named .wav is refused; a real WAV is normalised and played by a signed voice webhook), walks
the simulator; a viewer can open none of it. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import httpx
import pytest
from cryptography.fernet import Fernet
from twilio.request_validator import RequestValidator

from campaigns.flows.imports import import_file
from campaigns.registry.service import load_file
from outreach.core.context import AppContext
from outreach.core.db import upgrade_schema
from outreach.core.settings import Settings
from outreach.web.auth.models import Role
from tests.support.app import ROOT
from tests.support.reports import PASSWORD, make_user

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"
DEMO = ROOT / "campaigns" / "demo" / "campaigns.yaml"
HOTLINE_FILE = ROOT / "campaigns" / "demo" / "flows" / "hotline.yaml"
HOTLINE = "+994125550100"
TOKEN = "browser-token"

pytestmark = pytest.mark.browser
if not Path(CHROMIUM).exists():
    pytest.skip("Debian chromium is not installed", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")


# Records every CSP violation the page reports (run before any of the page's own scripts).
RECORD_CSP = """window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline'));
});"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    tmp = tmp_path_factory.mktemp("flow-editor")
    env = {
        "OUTREACH_DATABASE_URL": f"sqlite:///{tmp / 'outreach.db'}",
        "OUTREACH_PUBLIC_URL": base,
        "OUTREACH_HASH_KEY": "browser-hash-key",
        "OUTREACH_SESSION_SECRET": "browser-session",
        "OUTREACH_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "OUTREACH_MEDIA_DIR": str(tmp / "media"),
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "OUTREACH_SCHEDULER_ENABLED": "false",
    }
    settings = Settings(
        database_url=env["OUTREACH_DATABASE_URL"],
        public_url=base,
        hash_key=env["OUTREACH_HASH_KEY"],
        session_secret=env["OUTREACH_SESSION_SECRET"],
        encryption_key=env["OUTREACH_ENCRYPTION_KEY"],
        twilio_auth_token=TOKEN,
        twilio_account_sid=env["TWILIO_ACCOUNT_SID"],
        scheduler_enabled=False,
    )
    ctx = AppContext.from_settings(settings)
    upgrade_schema(ctx.engine)
    with ctx.sessions.begin() as session:
        load_file(session, DEMO)
        import_file(session, HOTLINE_FILE, user="setup", settings=settings)
    make_user(ctx, "boss", Role.MANAGER)
    make_user(ctx, "ana", Role.VIEWER)
    ctx.engine.dispose()
    log = (tmp / "uvicorn.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "outreach.app:create_app", "--factory",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
    )  # fmt: skip
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None:
                raise RuntimeError("uvicorn exited; see uvicorn.log")
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        yield chromium
        chromium.close()


def _login(browser: object, base: str, user: str) -> object:
    context = browser.new_context(viewport={"width": 1400, "height": 1100})  # type: ignore[attr-defined]
    context.add_init_script(RECORD_CSP)
    page = context.new_page()
    page.goto(f"{base}/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/dashboard")
    return page


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


def _edit(page: object, old: str, new: str) -> None:
    """Replaces text in the CodeMirror document as typing would (the change listener runs)."""
    page.evaluate(  # type: ignore[attr-defined]
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


def test_a_manager_builds_records_publishes_and_simulates(
    browser: object, server: str, tmp_path: Path
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page = _login(browser, server, "boss")
    page.click("nav >> text=Voice menus")  # type: ignore[attr-defined]
    page.click("a:text('hotline')")  # type: ignore[attr-defined]
    page.locator(".cm-editor").wait_for()  # type: ignore[attr-defined]
    page.locator("#node-intro").wait_for()  # type: ignore[attr-defined]

    source = HOTLINE_FILE.read_text(encoding="utf-8")
    line = source.splitlines().index("    next: psa") + 1
    _edit(page, "    next: psa\n", "    next: nowhere\n")
    error = page.locator(f"#issues li[data-line='{line}']")  # type: ignore[attr-defined]
    error.wait_for()
    assert "unknown node 'nowhere'" in error.inner_text()
    marker = page.locator(".cm-gutter-lint .cm-lint-marker-error")  # type: ignore[attr-defined]
    marker.first.wait_for(state="attached")
    assert page.locator("#node-intro.dangling").count() == 1  # type: ignore[attr-defined]
    page.screenshot(path=str(ARTIFACTS / "flow-editor-error.png"))  # type: ignore[attr-defined]

    _edit(page, "    next: nowhere\n", NEW_NODE)
    page.locator("#node-extra").wait_for()  # type: ignore[attr-defined]
    assert page.locator("#issues-summary").inner_text() == "No errors"  # type: ignore[attr-defined]
    assert "no recording: prompt/az" in page.locator("#node-extra").inner_text()  # type: ignore[attr-defined]
    page.screenshot(path=str(ARTIFACTS / "flow-editor-fixed.png"))  # type: ignore[attr-defined]

    # A call starts on version 1 (live); the manager saves and publishes version 2.
    old = Phone(server, "CA" + "1" * 32)
    old.start()
    page.click("#save")  # type: ignore[attr-defined]
    page.wait_for_url("**version=2**")  # type: ignore[attr-defined]
    page.click("tr[data-version='2'] button.publish")  # type: ignore[attr-defined]
    page.wait_for_url("**done=published-2**")  # type: ignore[attr-defined]
    assert "live" in page.locator("tr[data-version='2']").inner_text()  # type: ignore[attr-defined]
    assert "A message added in the browser." not in _said(old.press("3"))
    new = Phone(server, "CA" + "2" * 32)
    new.start()
    assert "A message added in the browser." in _said(new.press("3"))

    # Recordings: a text file named .wav is refused, a real WAV accepted and normalised.
    row = page.locator("tr[data-slot='extra/prompt/az']")  # type: ignore[attr-defined]
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
    page.wait_for_url("**done=recorded-3**")  # type: ignore[attr-defined]
    audio = page.locator("tr[data-slot='extra/prompt/az'] audio")  # type: ignore[attr-defined]
    src = audio.get_attribute("src")
    assert src and src.startswith("/media/")
    duration = page.evaluate(  # type: ignore[attr-defined]
        """(src) => new Promise((ok, no) => { const a = new Audio(src);
             a.addEventListener('loadedmetadata', () => ok(a.duration));
             a.addEventListener('error', no); })""",
        src,
    )
    assert 0.9 < float(duration) < 1.1  # the browser plays the normalised file
    page.click("tr[data-version='3'] button.publish")  # type: ignore[attr-defined]
    page.wait_for_url("**done=published-3**")  # type: ignore[attr-defined]
    azeri = Phone(server, "CA" + "3" * 32)
    azeri.start()
    assert f"{server}{src}" in _said(azeri.press("1"))  # <Play> of its URL
    page.screenshot(path=str(ARTIFACTS / "flow-editor-recordings.png"), full_page=True)  # type: ignore[attr-defined]

    # The simulator: language -> topic -> goodbye, each prompt shown.
    page.click("#sim-dial")  # type: ignore[attr-defined]
    log = page.locator("#sim-log")  # type: ignore[attr-defined]
    log.locator("text=For English, press 3.").wait_for()
    walk = [("3", "If you heard a code"), ("", "For legal work abroad"),
            ("1", "Work abroad only with"), ("9", "Thank you for calling. Goodbye!")]  # fmt: skip
    for keys, expect in walk:
        if keys:
            page.fill("#sim-digits", keys)  # type: ignore[attr-defined]
            page.click("#sim-send")  # type: ignore[attr-defined]
        else:
            page.click("#sim-timeout")  # type: ignore[attr-defined]
        log.locator(f"text={expect}").first.wait_for()
    log.locator(".ended").wait_for()
    page.select_option("#sms-to", "+994502000101")  # type: ignore[attr-defined]
    page.fill("#sms-body", "İŞ")  # type: ignore[attr-defined]
    page.click("#sms-send")  # type: ignore[attr-defined]
    page.locator("#sms-log .sms-in").wait_for()  # type: ignore[attr-defined]
    assert "Xaricdə iş?" in page.locator("#sms-log .sms-in").inner_text()  # type: ignore[attr-defined]
    assert page.evaluate("window.__csp") == []  # type: ignore[attr-defined]
    page.locator(".simulator").screenshot(path=str(ARTIFACTS / "flow-editor-simulator.png"))  # type: ignore[attr-defined]


def test_a_viewer_can_open_none_of_the_editor(browser: object, server: str) -> None:
    page = _login(browser, server, "ana")
    assert page.locator("nav >> text=Voice menus").count() == 0  # type: ignore[attr-defined]
    for path in ("/dashboard/flows", "/dashboard/flows/hotline"):
        answer = page.goto(f"{server}{path}")  # type: ignore[attr-defined]
        assert answer.status == 403
    page.screenshot(path=str(ARTIFACTS / "flow-editor-viewer.png"))  # type: ignore[attr-defined]
