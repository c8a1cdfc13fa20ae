"""The dashboard in a real headless Chromium: log in, open each page, charts drawn with data,
all under the Content-Security-Policy with no violation reported."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from outreach.web.auth.models import Role
from tests.support.browser import browser as browser  # the fixture, re-exported for pytest
from tests.support.browser import (
    csp_violations,
    login,
    needs_browser,
    new_page,
    run_service,
    screenshot,
)
from tests.support.reports import seed_demo, window

pytestmark = needs_browser

# Counts the drawn (non-transparent) pixels of a chart's canvas.
PAINTED = """(canvas) => {
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let n = 0;
  for (let i = 3; i < data.length; i += 4) { if (data[i] > 0) n++; }
  return n;
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Seeds a demo database, then runs the real service with uvicorn on a free port."""
    with run_service(
        tmp_path_factory.mktemp("browser"),
        users={"boss": Role.MANAGER, "ana": Role.VIEWER},
        seed=lambda ctx: seed_demo(ctx, days=6),
    ) as base:
        yield base


def _charts(page: Any, names: list[str]) -> dict[str, int]:
    painted = {}
    for name in names:
        canvas = page.locator(f"canvas#chart-{name}")
        canvas.wait_for()
        assert canvas.get_attribute("data-rendered") == "1", name
        painted[name] = int(canvas.evaluate(PAINTED))
    return painted


def _query() -> str:
    span = window(6)
    return f"from={span['from']}&to={span['to']}"


def test_dashboard_pages_render_charts_with_data(browser: Any, server: str) -> None:
    console: list[str] = []
    page = login(browser, server, "boss", console=console, start="/dashboard")
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
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    for name, (path, charts) in pages.items():
        response = page.goto(server + path)
        assert "script-src 'self'" in response.headers["content-security-policy"]
        painted = _charts(page, charts)
        assert csp_violations(page) == [], name
        screenshot(page, f"dashboard-{name}")
        for chart, pixels in painted.items():
            assert pixels > 2000, f"{name}: chart {chart} looks empty ({pixels} pixels)"
    assert errors == []
    assert console == []
    page.goto(f"{server}/dashboard/channels?{_query()}")
    rows = page.locator("[data-testid=channel-table] tbody tr").count()
    assert rows >= 5  # radio, tv, flyer, newspaper, poster (+ unattributed) and the total
    page.goto(f"{server}/dashboard/lift?{_query()}")
    assert page.locator("[data-testid=station-table] tbody tr").count() == 3


def test_dashboard_numbers_match_the_api(browser: Any, server: str) -> None:
    page = login(browser, server, "ana", start="/dashboard")
    page.goto(f"{server}/dashboard?{_query()}")
    shown = page.locator("[data-testid=unique]").inner_text()
    api = page.evaluate(f"fetch('/api/reports/summary?{_query()}').then(r => r.json())")
    assert shown == f"{api['contacts']['unique']:,}"
    screenshot(page, "dashboard-viewer")


def test_unauthenticated_browser_is_sent_to_login(browser: Any, server: str) -> None:
    page = browser.new_context().new_page()
    page.goto(f"{server}/dashboard/lift")
    assert page.url.startswith(f"{server}/login?next=")
    assert page.locator("input[name=password]").count() == 1
    assert httpx.get(f"{server}/api/reports/channels").status_code == 401


def test_api_docs_render_under_the_content_security_policy(browser: Any, server: str) -> None:
    console: list[str] = []
    page = new_page(browser, console=console)
    response = page.goto(f"{server}/docs")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    page.locator(".opblock").first.wait_for()
    assert page.locator(".opblock").count() > 10
    screenshot(page, "api-docs")
    assert csp_violations(page) == []
    assert console == []
