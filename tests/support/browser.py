"""Browser tests: Debian's Chromium driven by Playwright, against the real service under uvicorn.

A test module sets `pytestmark = needs_browser` (its tests skip when /usr/bin/chromium or
playwright is absent; no browser is ever downloaded), re-exports the `browser` fixture, and
builds its `server` fixture with `run_service`. `login` opens a page that records every
Content-Security-Policy violation (`csp_violations`); `screenshot` saves to test-artifacts/.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet

from campaigns.registry.service import load_file
from outreach.core.context import AppContext
from outreach.core.db import upgrade_schema
from outreach.core.settings import Settings
from outreach.web.auth.models import Role
from tests.support.app import DEMO_FILE, ROOT
from tests.support.ports import free_port
from tests.support.reports import PASSWORD, make_user

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ARTIFACTS = ROOT / "test-artifacts"
TOKEN = "browser-token"
DESKTOP = {"width": 1400, "height": 1000}
START_ATTEMPTS = 300  # polls of /healthz, 0.1 s apart

needs_browser = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed"),
    pytest.mark.skipif(
        importlib.util.find_spec("playwright") is None, reason="playwright is not installed"
    ),
]

# Records every CSP violation the page reports (run before any of the page's own scripts).
RECORD_CSP = """window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline'));
});"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless and without the sandbox, for the module's tests."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@contextmanager
def run_service(
    folder: Path,
    users: dict[str, Role],
    seed: Callable[[AppContext], None] | None = None,
    env: dict[str, str] | None = None,
) -> Iterator[str]:
    """Loads the demo campaigns into a fresh SQLite database in `folder`, runs `seed` and adds
    the users (password PASSWORD), then runs the real service with uvicorn on a free port
    (with `env` added to its environment); yields its base URL and stops it afterwards."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = Settings(
        database_url=f"sqlite:///{folder / 'outreach.db'}",
        public_url=base,
        hash_key="browser-hash-key",
        session_secret="browser-session",
        encryption_key=Fernet.generate_key().decode(),
        twilio_auth_token=TOKEN,
        twilio_account_sid="AC" + "0" * 32,
        scheduler_enabled=False,
    )
    ctx = AppContext.from_settings(settings)
    upgrade_schema(ctx.engine)
    with ctx.sessions.begin() as session:
        load_file(session, DEMO_FILE)
    if seed is not None:
        seed(ctx)
    for name, role in users.items():
        make_user(ctx, name, role)
    ctx.engine.dispose()
    service_env = {
        **os.environ,
        "OUTREACH_DATABASE_URL": settings.database_url,
        "OUTREACH_PUBLIC_URL": base,
        "OUTREACH_HASH_KEY": settings.hash_key,
        "OUTREACH_SESSION_SECRET": settings.session_secret,
        "OUTREACH_ENCRYPTION_KEY": settings.encryption_key,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_ACCOUNT_SID": settings.twilio_account_sid,
        "OUTREACH_SCHEDULER_ENABLED": "false",
        **(env or {}),
    }
    log_path = folder / "uvicorn.log"
    command = [sys.executable, "-m", "uvicorn", "outreach.app:create_app", "--factory"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            command, env=service_env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT
        )
        try:
            for _ in range(START_ATTEMPTS):
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if proc.poll() is not None:
                    raise RuntimeError(f"uvicorn exited; see {log_path}")
                time.sleep(0.1)
            yield base
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def new_page(
    browser: Any, viewport: dict[str, int] = DESKTOP, console: list[str] | None = None
) -> Any:
    """A page in a fresh context that records CSP violations; with `console`, it also collects
    the console messages in which Chromium reports what a CSP blocked ("Refused to ...")."""
    context = browser.new_context(viewport=viewport)
    context.add_init_script(RECORD_CSP)
    page = context.new_page()
    if console is not None:

        def refused(msg: Any) -> None:
            if "Refused to" in msg.text:
                console.append(msg.text)

        page.on("console", refused)
    return page


def login(
    browser: Any,
    base: str,
    user: str,
    viewport: dict[str, int] = DESKTOP,
    console: list[str] | None = None,
    start: str = "/login",
) -> Any:
    """Opens `start` (which must land on the login form), logs in as `user` with PASSWORD and
    waits for the dashboard; returns the page (see new_page)."""
    page = new_page(browser, viewport, console)
    page.goto(base + start)
    assert page.url.startswith(f"{base}/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/dashboard")
    return page


def csp_violations(page: Any) -> list[str]:
    """The CSP violations the page reported since it was opened (see RECORD_CSP)."""
    return list(page.evaluate("window.__csp"))


def screenshot(target: Any, name: str, full_page: bool = True) -> Path:
    """Saves a screenshot of a page (the whole page unless full_page is False) or of a locator
    (pass full_page=False) as test-artifacts/NAME.png; returns its path."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    if full_page:
        target.screenshot(path=str(path), full_page=True)
    else:
        target.screenshot(path=str(path))
    return path
