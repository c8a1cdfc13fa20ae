# ruff: noqa: F811 (pytest fixtures imported from report_helpers)
"""Browser security headers on every page, no inline script, and redirects that ignore Host."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

from outreach.core.context import AppContext
from outreach.web.auth.models import Role
from outreach.web.pages import TEMPLATES_DIR
from outreach.web.security_headers import relative_location
from tests.support.reports import login, make_user, web  # noqa: F401

PAGES = ["/login", "/dashboard", "/dashboard/channels", "/dashboard/lift", "/docs"]


class _InlineCode(HTMLParser):
    """Collects what a CSP without 'unsafe-inline' would block: inline scripts, style blocks,
    style attributes and event-handler attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        if tag == "script" and "src" not in names and names.get("type") != "application/json":
            self.found.append("<script> without src")
        if tag == "style":
            self.found.append("<style>")
        self.found += [f"{tag} {name}=" for name in names if name == "style" or name[:2] == "on"]


def _inline_code(html: str) -> list[str]:
    parser = _InlineCode()
    parser.feed(html)
    return parser.found


@pytest.fixture
def signed_in(loaded: AppContext, web: TestClient) -> TestClient:
    make_user(loaded, "boss", Role.MANAGER)
    assert login(web, "boss").status_code == 303
    return web


def test_pages_send_the_security_headers(signed_in: TestClient) -> None:
    for path in [*PAGES, "/api/campaigns", "/static/dashboard.js", "/healthz"]:
        response = signed_in.get(path)
        assert response.status_code == 200, path
        csp = response.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp, path
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, path
        assert response.headers["x-frame-options"] == "DENY", path
        assert response.headers["x-content-type-options"] == "nosniff", path
        assert response.headers["referrer-policy"] == "same-origin", path


def test_redirects_and_errors_carry_the_headers_too(web: TestClient) -> None:
    for response in (
        web.get("/dashboard", follow_redirects=False),  # to the login page
        web.get("/api/campaigns"),  # 401
        web.get("/nowhere"),  # 404
    ):
        assert response.headers["x-frame-options"] == "DENY"
        assert "content-security-policy" in response.headers


def test_pages_have_no_inline_script_or_style(signed_in: TestClient) -> None:
    for path in PAGES:
        page = signed_in.get(path)
        assert _inline_code(page.text) == [], path


def test_templates_have_no_inline_script_or_style() -> None:
    # Catches blocks a page renders only sometimes (manager forms, empty states, errors).
    for template in sorted(TEMPLATES_DIR.rglob("*.html")):
        assert _inline_code(template.read_text()) == [], template.name
        assert not re.search(r"javascript:", template.read_text(), re.I), template.name


def test_a_forged_host_header_never_reaches_a_redirect(web: TestClient) -> None:
    for path in ("/dashboard/", "/login/", "//evil.example/", "/dashboard/?next=x"):
        response = web.get(path, headers={"Host": "evil.example"}, follow_redirects=False)
        assert response.is_redirect, path
        location = response.headers["location"]
        assert "evil.example" not in location.split("?")[0], (path, location)
        assert location.startswith("/") and not location.startswith("//"), (path, location)
    assert web.get("/dashboard/", follow_redirects=False).headers["location"] == "/dashboard"


def test_relative_location_keeps_path_and_query_and_drops_any_host() -> None:
    assert relative_location("/dashboard?from=1") == "/dashboard?from=1"
    assert relative_location("http://evil.example/dashboard?a=1#x") == "/dashboard?a=1#x"
    assert relative_location("https://evil.example") == "/"
    assert relative_location("//evil.example/x") == "/x"
    assert relative_location("http://h//evil.example/x") == "/evil.example/x"
    assert relative_location("http://h/\\evil.example") == "/evil.example"
