"""The application factory mounts every router once, in outreach/app.py."""

from __future__ import annotations

import importlib.util
import warnings
from typing import Any

from outreach.app import ROUTERS
from tests.support.app import ROOT

PACKAGES = ("outreach", "campaigns", "webhooks", "ivr_flows")


def test_routers_are_mounted_only_in_the_app_factory() -> None:
    mounting = sorted(
        str(path.relative_to(ROOT))
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "include_router(" in path.read_text()
    )
    assert mounting == ["outreach/app.py"]
    assert importlib.util.find_spec("outreach.web.dashboard.install") is None


def test_every_router_is_mounted_once(app: Any, client: Any) -> None:
    assert len({id(router) for router in ROUTERS}) == len(ROUTERS)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a router mounted twice repeats its operation ids
        paths = set(app.openapi()["paths"])
    assert {"/twilio/sms", "/twilio/voice/step", "/api/airings", "/api/campaigns"} <= paths
    assert client.get("/login").status_code == 200
    assert client.get("/dashboard", follow_redirects=False).status_code == 303


def test_static_files_and_audio_are_served(client: Any) -> None:
    assert client.get("/static/dashboard.css").status_code == 200
    assert client.get("/audio/az/goodbye.wav").status_code == 200
    assert client.get("/", follow_redirects=False).headers["location"] == "/dashboard"
