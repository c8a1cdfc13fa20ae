"""Starts and stops Prism, the mock of Twilio's REST API built from Twilio's own OpenAPI file.

`npm ci` installs both (package.json pins @stoplight/prism-cli and @twilio/cli-core). Tests
that need it use the `prism` fixture and are marked `prism`; they skip only when node_modules
is absent.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.app import ROOT
from tests.support.ports import free_port

PRISM_BIN = ROOT / "node_modules" / ".bin" / "prism"
TWILIO_SPEC = (
    ROOT
    / "node_modules"
    / "@twilio"
    / "cli-core"
    / "src"
    / "services"
    / "twilio-api"
    / "twilio_api_v2010.json"
)
STARTUP_SECONDS = 60
SKIP_REASON = "Prism is not installed: run `npm ci` in the repository root (needs node_modules)"

needs_prism = [
    pytest.mark.prism,
    pytest.mark.skipif(not (PRISM_BIN.exists() and TWILIO_SPEC.exists()), reason=SKIP_REASON),
]


class Prism:
    """One Prism process on 127.0.0.1; its log tells which requests passed Twilio's spec."""

    def __init__(self, log_path: Path) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            [str(PRISM_BIN), "mock", "-h", "127.0.0.1", "-p", str(self.port), str(TWILIO_SPEC)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )

    def wait_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"prism exited early:\n{self.log()[-2000:]}")
            if "Prism is listening" in self.log():
                return
            time.sleep(0.1)
        raise RuntimeError(f"prism did not start within {STARTUP_SECONDS}s:\n{self.log()[-2000:]}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def mark(self) -> int:
        """Returns the current log length, to read only what follows."""
        return len(self.log())

    def since(self, mark: int) -> str:
        return self.log()[mark:]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self._log.close()


def message_creates(log: str) -> int:
    """Counts Messages create requests Prism received."""
    return sum(
        1
        for line in log.splitlines()
        if "Request received" in line
        and line.split("[HTTP SERVER] ")[-1].startswith("post /")
        and "/Messages.json" in line
    )


def passed_validation(log: str) -> int:
    return log.count("The request passed the validation rules")


def failed_validation(log: str) -> int:
    return log.count("Request did not pass the validation rules")


@pytest.fixture(scope="module")
def prism(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prism]:
    """A Prism server for the module's tests, stopped afterwards."""
    if not PRISM_BIN.exists():
        pytest.skip(SKIP_REASON)
    server = Prism(tmp_path_factory.mktemp("prism") / "prism.log")
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()
