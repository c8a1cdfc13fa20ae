"""Two real `outreach serve` processes on one database: the login throttle and session
revocation are shared, and X-Forwarded-For from an untrusted peer (here loopback) is ignored."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from typer.testing import CliRunner

from outreach.cli import app as cli
from outreach.cli import service
from outreach.core.context import AppContext
from outreach.core.db import upgrade_schema
from outreach.web.auth.models import Role
from tests.support.app import make_settings
from tests.support.database import BACKENDS, fresh_database
from tests.support.ports import free_port
from tests.support.reports import PASSWORD, make_user

OUTREACH = Path(sys.executable).parent / "outreach"
WRONG = "not the password"


@dataclass
class Servers:
    bases: list[str]
    ctx: AppContext

    def user(self, username: str) -> str:
        """Creates a viewer with PASSWORD; returns the username."""
        make_user(self.ctx, username, Role.VIEWER)
        return username


@pytest.fixture(scope="module", params=BACKENDS)
def servers(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Servers]:
    """Two service processes on one fresh database (started once per backend)."""
    tmp = tmp_path_factory.mktemp("serve")
    with fresh_database(request.param, tmp) as url:
        settings = make_settings(url)
        ctx = AppContext.from_settings(settings)
        upgrade_schema(ctx.engine)
        procs, bases = [], []
        for n in range(2):
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            env = {
                **os.environ,
                "OUTREACH_DATABASE_URL": url,
                "OUTREACH_PUBLIC_URL": base,
                "OUTREACH_HOST": "127.0.0.1",
                "OUTREACH_PORT": str(port),
                "OUTREACH_HASH_KEY": settings.hash_key,
                "OUTREACH_ENCRYPTION_KEY": settings.encryption_key,
                "OUTREACH_SESSION_SECRET": settings.session_secret,
                "TWILIO_AUTH_TOKEN": settings.twilio_auth_token,
                "OUTREACH_SCHEDULER_ENABLED": "false",
                "OUTREACH_LOG_LEVEL": "WARNING",
            }
            log = (tmp / f"serve-{n}.log").open("w")
            procs.append(
                subprocess.Popen([str(OUTREACH), "serve"], env=env, cwd=tmp, stdout=log, stderr=log)
            )
            bases.append(base)
        try:
            for proc, base in zip(procs, bases, strict=True):
                _wait_healthy(proc, base)
            yield Servers(bases=bases, ctx=ctx)
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(timeout=20)
            ctx.engine.dispose()


def _wait_healthy(proc: subprocess.Popen[bytes], base: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"outreach serve exited with {proc.returncode}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("outreach serve did not answer /healthz within 60 s")


def _form(client: httpx.Client, base: str, username: str, password: str) -> dict[str, str]:
    page = client.get(f"{base}/login")
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match
    return {"username": username, "password": password, "csrf_token": match.group(1)}


def _login(client: httpx.Client, base: str, user: str, password: str, **kw: object) -> int:
    form = _form(client, base, user, password)
    return client.post(f"{base}/login", data=form, **kw).status_code  # type: ignore[arg-type]


def test_rotating_forwarded_for_from_loopback_does_not_bypass_the_throttle(
    servers: Servers,
) -> None:
    user, base = servers.user("rotating"), servers.bases[0]
    with httpx.Client() as client:
        for n in range(5):
            spoofed = {"X-Forwarded-For": f"203.0.113.{n}"}
            assert _login(client, base, user, WRONG, headers=spoofed) == 401
        fresh = {"X-Forwarded-For": "203.0.113.200"}
        assert _login(client, base, user, PASSWORD, headers=fresh) == 429


def test_failures_in_one_process_count_in_the_other(servers: Servers) -> None:
    user, (a, b) = servers.user("alternating"), servers.bases
    with httpx.Client() as client:
        for n in range(5):
            assert _login(client, (a, b)[n % 2], user, WRONG) == 401
        assert _login(client, a, user, PASSWORD) == 429
        assert _login(client, b, user, PASSWORD) == 429


def test_parallel_guesses_over_two_processes_check_at_most_the_limit(servers: Servers) -> None:
    user, bases, guesses = servers.user("parallel"), servers.bases, 16
    clients = [httpx.Client(timeout=60) for _ in range(guesses)]
    forms = [_form(c, bases[i % 2], user, WRONG) for i, c in enumerate(clients)]
    start = threading.Barrier(guesses)

    def guess(i: int) -> int:
        start.wait(timeout=60)
        return clients[i].post(f"{bases[i % 2]}/login", data=forms[i]).status_code

    try:
        with ThreadPoolExecutor(max_workers=guesses) as pool:
            codes = list(pool.map(guess, range(guesses)))
    finally:
        for c in clients:
            c.close()
    assert sorted(set(codes)) == [401, 429], codes
    assert codes.count(401) <= 5, codes  # only the limit's worth had their password checked


def test_logout_in_one_process_ends_the_session_in_the_other(servers: Servers) -> None:
    user, (a, b) = servers.user("leaving"), servers.bases
    with httpx.Client() as browser:
        assert _login(browser, a, user, PASSWORD) == 303
        cookie = browser.cookies["outreach_session"]
        with httpx.Client(cookies={"outreach_session": cookie}) as thief:
            assert thief.get(f"{a}/api/campaigns").status_code == 200
            assert thief.get(f"{b}/api/campaigns").status_code == 200
            page = browser.get(f"{b}/dashboard")
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            assert csrf
            logout = browser.post(f"{b}/logout", data={"csrf_token": csrf.group(1)})
            assert logout.status_code == 303
            assert thief.get(f"{a}/api/campaigns").status_code == 401
            assert thief.get(f"{a}/dashboard").status_code == 303


@pytest.mark.parametrize(
    ("trusted", "proxy_headers", "allowed"),
    [("", False, None), ("127.0.0.1, 10.0.0.0/8", True, ["127.0.0.1/32", "10.0.0.0/8"])],
)
def test_serve_lets_uvicorn_believe_forwarded_headers_only_from_trusted_proxies(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    trusted: str,
    proxy_headers: bool,
    allowed: list[str] | None,
) -> None:
    root = logging.getLogger()  # the command sets up logging on a stderr that then closes
    monkeypatch.setattr(root, "handlers", list(root.handlers))
    monkeypatch.setattr(root, "level", root.level)
    started: list[dict[str, object]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: started.append(kw))
    settings = make_settings(f"sqlite:///{tmp_path}/outreach.db", trusted_proxies=trusted)
    monkeypatch.setattr(service, "cli_settings", lambda **kw: settings)
    result = CliRunner().invoke(cli, ["serve"])
    assert result.exit_code == 0, result.output
    (options,) = started
    assert options["proxy_headers"] is proxy_headers
    assert options["forwarded_allow_ips"] == allowed
    assert options["loop"] == "asyncio"  # fair under a burst (OUTREACH_EVENT_LOOP)
