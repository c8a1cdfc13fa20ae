"""Real processes for the deployment tests: `outreach` commands and nginx, on 127.0.0.1 only.

nginx runs with the config deploy/nginx/render.py writes (the one compose.yaml's is rendered
from), as the README's "Running several processes" runs it.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import httpx

from outreach.core.settings import Settings, env_name
from tests.support.app import ROOT
from tests.support.ports import free_port

DEADLINE_SECONDS = 90  # an upper bound for polling on a loaded 2-core machine, not an assertion
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else "")
RENDER_SCRIPT = ROOT / "deploy" / "nginx" / "render.py"
UPSTREAM_ADDRESS = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}:\d+\b")


def _load_render() -> ModuleType:
    spec = importlib.util.spec_from_file_location("outreach_nginx_render", RENDER_SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


render = _load_render()

__all__ = ["NGINX", "Nginx", "OutreachProcess", "free_port", "render", "service_env", "wait_until"]


def service_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment of an `outreach` subprocess: these settings, none inherited from ours."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OUTREACH_", "TWILIO_"))}
    for field in settings.model_fields_set:
        value = getattr(settings, field)
        env[env_name(field)] = str(int(value)) if isinstance(value, bool) else str(value)
    env.update(extra)
    return env


def wait_until(predicate: Callable[[], bool], what: str, logs: list[Path]) -> None:
    """Polls until `predicate` holds; fails with the processes' log tails if it never does."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    tails = "\n".join(f"--- {p.name}\n{p.read_text()[-2000:]}" for p in logs if p.exists())
    raise AssertionError(f"timed out waiting for {what}\n{tails}")


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.TransportError:
        return False


class OutreachProcess:
    """One `outreach ARGS...` subprocess with its output in a log file."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path, cwd: Path) -> None:
        self.args, self.env, self.log, self.cwd = args, env, log, cwd
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> OutreachProcess:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-c", "from outreach.cli import main; main()", *self.args],
                env=self.env,
                cwd=self.cwd,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        return self

    def run(self) -> int:
        """Runs to the end (a one-shot command); returns its exit code."""
        self.start()
        assert self.process is not None
        return self.process.wait(timeout=DEADLINE_SECONDS)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=30)


class Nginx:
    """Debian's nginx in the foreground, with a config rendered under `prefix`."""

    def __init__(self, prefix: Path, upstreams: list[str]) -> None:
        self.prefix = prefix
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config = render.write_main(upstreams, f"127.0.0.1:{self.port}", prefix)
        self.log = prefix / "logs" / "error.log"
        self.access_log = prefix / "logs" / "access.log"
        self.process: subprocess.Popen[bytes] | None = None

    def command(self, *extra: str) -> list[str]:
        return [NGINX, "-e", "stderr", "-p", str(self.prefix), "-c", str(self.config), *extra]

    def start(self) -> Nginx:
        with (self.prefix / "logs" / "stderr.log").open("ab") as out:
            self.process = subprocess.Popen(self.command(), stdout=out, stderr=subprocess.STDOUT)
        wait_until(self._listening, "nginx to listen", [self.log])
        return self

    def _listening(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"nginx exited {self.process.returncode}: {self.log.read_text()}")
        try:
            httpx.get(self.url + "/metrics", timeout=2)
        except httpx.TransportError:
            return False
        return True

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGQUIT)  # graceful: workers finish their requests
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=30)

    def upstreams_used(self) -> set[str]:
        """The upstream addresses that answered, from the access log (only they carry a port)."""
        return set(UPSTREAM_ADDRESS.findall(self.access_log.read_text()))
