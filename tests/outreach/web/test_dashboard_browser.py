"""The dashboard in a real headless Chromium: log in, open each page, charts drawn with data,
all under the Content-Security-Policy with no violation reported."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet

from campaigns.registry.service import load_file
from outreach.core.context import AppContext
from outreach.core.db import upgrade_schema
from outreach.core.settings import Settings
from outreach.web.auth.models import Role
from tests.support.app import ROOT
from tests.support.reports import PASSWORD, make_user, seed_demo, window

CHROMIUM = "/usr/bin/chromium"
ROOT = ROOT
ARTIFACTS = ROOT / "test-artifacts"
DEMO = ROOT / "campaigns" / "demo" / "campaigns.yaml"

pytestmark = pytest.mark.browser
if not Path(CHROMIUM).exists():
    pytest.skip("Debian chromium is not installed", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

# Counts the drawn (non-transparent) pixels of a chart's canvas.
PAINTED = """(canvas) => {
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let n = 0;
  for (let i = 3; i < data.length; i += 4) { if (data[i] > 0) n++; }
  return n;
}"""


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
    """Seeds a demo database, then runs the real service with uvicorn on a free port."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    db = tmp_path_factory.mktemp("browser") / "outreach.db"
    env = {
        "OUTREACH_DATABASE_URL": f"sqlite:///{db}",
        "OUTREACH_PUBLIC_URL": base,
        "OUTREACH_HASH_KEY": "browser-hash-key",
        "OUTREACH_SESSION_SECRET": "browser-session",
        "OUTREACH_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "TWILIO_AUTH_TOKEN": "browser-token",
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "OUTREACH_SCHEDULER_ENABLED": "false",
    }
    settings = Settings(
        database_url=env["OUTREACH_DATABASE_URL"],
        public_url=base,
        hash_key=env["OUTREACH_HASH_KEY"],
        session_secret=env["OUTREACH_SESSION_SECRET"],
        encryption_key=env["OUTREACH_ENCRYPTION_KEY"],
        twilio_auth_token="browser-token",
        twilio_account_sid=env["TWILIO_ACCOUNT_SID"],
        scheduler_enabled=False,
    )
    ctx = AppContext.from_settings(settings)
    upgrade_schema(ctx.engine)
    with ctx.sessions.begin() as session:
        load_file(session, DEMO)
    seed_demo(ctx, days=6)
    make_user(ctx, "boss", Role.MANAGER)
    make_user(ctx, "ana", Role.VIEWER)
    ctx.engine.dispose()
    log = (tmp_path_factory.getbasetemp() / "uvicorn.log").open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "outreach.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )
    try:
        for _ in range(200):
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
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
            ],
        )
        yield chromium
        chromium.close()


def _new_page(browser: object, console: list[str] | None = None) -> object:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})  # type: ignore[attr-defined]
    context.add_init_script(RECORD_CSP)
    page = context.new_page()
    if console is not None:
        # Chromium logs what a CSP blocked as a console error ("Refused to ...").
        page.on("console", lambda msg: "Refused to" in msg.text and console.append(msg.text))
    return page


def _csp_violations(page: object) -> list[str]:
    return list(page.evaluate("window.__csp"))  # type: ignore[attr-defined]


def _login(browser: object, base: str, user: str, console: list[str] | None = None) -> object:
    page = _new_page(browser, console)
    page.goto(f"{base}/dashboard")  # type: ignore[attr-defined]
    assert page.url.startswith(f"{base}/login")
    page.fill("input[name=username]", user)  # type: ignore[attr-defined]
    page.fill("input[name=password]", PASSWORD)  # type: ignore[attr-defined]
    page.click("button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_url(f"{base}/dashboard")  # type: ignore[attr-defined]
    return page


def _charts(page: object, names: list[str]) -> dict[str, int]:
    painted = {}
    for name in names:
        canvas = page.locator(f"canvas#chart-{name}")  # type: ignore[attr-defined]
        canvas.wait_for()
        assert canvas.get_attribute("data-rendered") == "1", name
        painted[name] = int(canvas.evaluate(PAINTED))
    return painted


def _query() -> str:
    span = window(6)
    return f"from={span['from']}&to={span['to']}"


def test_dashboard_pages_render_charts_with_data(browser: object, server: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    console: list[str] = []
    page = _login(browser, server, "boss", console)
    pages = {
        "overview": (f"/dashboard?{_query()}", ["daily", "channels"]),
        "channels": (f"/dashboard/channels?{_query()}", ["channels"]),
        "campaign": (
            f"/dashboard/campaigns/AZ-RADIO-IDMAN-2027?{_query()}",
            ["funnel", "topics", "daily"],
        ),
        "lift": (f"/dashboard/lift?{_query()}", ["curves", "excess"]),
    }
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))  # type: ignore[attr-defined]
    for name, (path, charts) in pages.items():
        response = page.goto(server + path)  # type: ignore[attr-defined]
        assert "script-src 'self'" in response.headers["content-security-policy"]
        painted = _charts(page, charts)
        assert _csp_violations(page) == [], name
        page.screenshot(path=str(ARTIFACTS / f"dashboard-{name}.png"), full_page=True)  # type: ignore[attr-defined]
        for chart, pixels in painted.items():
            assert pixels > 2000, f"{name}: chart {chart} looks empty ({pixels} pixels)"
    assert errors == []
    assert console == []
    page.goto(f"{server}/dashboard/channels?{_query()}")  # type: ignore[attr-defined]
    rows = page.locator("[data-testid=channel-table] tbody tr").count()  # type: ignore[attr-defined]
    assert rows >= 5  # radio, tv, flyer, newspaper, poster (+ unattributed) and the total
    page.goto(f"{server}/dashboard/lift?{_query()}")  # type: ignore[attr-defined]
    assert page.locator("[data-testid=station-table] tbody tr").count() == 3  # type: ignore[attr-defined]


def test_dashboard_numbers_match_the_api(browser: object, server: str) -> None:
    page = _login(browser, server, "ana")
    page.goto(f"{server}/dashboard?{_query()}")  # type: ignore[attr-defined]
    shown = page.locator("[data-testid=unique]").inner_text()  # type: ignore[attr-defined]
    api = page.evaluate(  # type: ignore[attr-defined]
        f"fetch('/api/reports/summary?{_query()}').then(r => r.json())"
    )
    assert shown == f"{api['contacts']['unique']:,}"
    page.screenshot(path=str(ARTIFACTS / "dashboard-viewer.png"), full_page=True)  # type: ignore[attr-defined]


def test_unauthenticated_browser_is_sent_to_login(browser: object, server: str) -> None:
    page = browser.new_context().new_page()  # type: ignore[attr-defined]
    page.goto(f"{server}/dashboard/lift")
    assert page.url.startswith(f"{server}/login?next=")
    assert page.locator("input[name=password]").count() == 1
    assert httpx.get(f"{server}/api/reports/channels").status_code == 401


def test_api_docs_render_under_the_content_security_policy(browser: object, server: str) -> None:
    console: list[str] = []
    page = _new_page(browser, console)
    response = page.goto(f"{server}/docs")  # type: ignore[attr-defined]
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    page.locator(".opblock").first.wait_for()  # type: ignore[attr-defined]
    assert page.locator(".opblock").count() > 10  # type: ignore[attr-defined]
    page.screenshot(path=str(ARTIFACTS / "api-docs.png"), full_page=True)  # type: ignore[attr-defined]
    assert _csp_violations(page) == []
    assert console == []
