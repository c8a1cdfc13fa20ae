"""Real `outreach` processes for tests: the environment, start, wait, stop (127.0.0.1 only)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from outreach.core.settings import Settings
from tests.support.app import POSTGRES_URL

DEADLINE_SECONDS = 90  # an upper bound for polling, not a timing assertion


def process_env(settings: Settings, **overrides: str) -> dict[str, str]:
    """The environment of an `outreach` process on the same database and secrets as `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OUTREACH_", "TWILIO_"))}
    env.update(
        OUTREACH_DATABASE_URL=settings.database_url,
        OUTREACH_PUBLIC_URL=settings.public_url,
        OUTREACH_HASH_KEY=settings.hash_key,
        OUTREACH_ENCRYPTION_KEY=settings.encryption_key,
        OUTREACH_SESSION_SECRET=settings.session_secret,
        TWILIO_ACCOUNT_SID=settings.twilio_account_sid,
        TWILIO_AUTH_TOKEN=settings.twilio_auth_token,
        OUTREACH_SEND_RATE_PER_SECOND="0",
    )
    env.update(overrides)
    return env


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Starts `outreach COMMAND…` with its output in `log`."""
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-c", "from outreach.cli import main; main()", *command],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def tail(log: Path, lines: int = 40) -> str:
    text_ = log.read_text(errors="replace") if log.exists() else ""
    return "\n".join(text_.splitlines()[-lines:])


def wait_for(predicate: Callable[[], bool], what: str, *logs: Path) -> None:
    """Polls until predicate() holds; fails with the processes' logs after the deadline."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    shown = "\n".join(f"--- {log.name}\n{tail(log)}" for log in logs)
    raise AssertionError(f"timed out waiting for {what}\n{shown}")


def healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def stop(process: subprocess.Popen[bytes]) -> int:
    """Stops a process with SIGTERM (SIGKILL if it hangs); returns its exit code."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)
    return int(process.returncode)


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A database URL on a fresh PostgreSQL schema (OUTREACH_TEST_POSTGRES_URL), dropped after."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
