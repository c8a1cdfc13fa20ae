"""`outreach worker` killed with SIGKILL mid-dispatch, then restarted: nothing lost, and only
the row that was on the wire at the kill may go out twice (the documented at-least-once case)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from campaigns.followups.models import HANDED_OVER, OutboxMessage, OutboxStatus
from campaigns.followups.service import opt_in
from outreach.core.context import AppContext
from outreach.core.db import utcnow
from tests.support.fake_twilio_server import FakeTwilioServer
from tests.support.followups import make_campaign

PEOPLE = [f"+99450{n:07d}" for n in range(2000000, 2000080)]
LEASE_SECONDS = 3
DEADLINE_SECONDS = 60  # an upper bound for polling, not a timing assertion
ONE_MESSAGE = {"series": [{"id": "one", "messages": [{"text": {"az": "MİM: +994125550100"}}]}]}


@pytest.fixture
def server() -> Iterator[FakeTwilioServer]:
    fake = FakeTwilioServer(delay=0.01).start()
    yield fake
    fake.stop()


def worker_env(ctx: AppContext, server: FakeTwilioServer) -> dict[str, str]:
    s = ctx.settings
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OUTREACH_", "TWILIO_"))}
    env.update(
        OUTREACH_DATABASE_URL=s.database_url,
        OUTREACH_PUBLIC_URL=s.public_url,
        OUTREACH_HASH_KEY=s.hash_key,
        OUTREACH_ENCRYPTION_KEY=s.encryption_key,
        OUTREACH_SESSION_SECRET=s.session_secret,
        TWILIO_ACCOUNT_SID=s.twilio_account_sid,
        TWILIO_AUTH_TOKEN=s.twilio_auth_token,
        TWILIO_API_BASE_URL=server.base_url,
        OUTREACH_SEND_RATE_PER_SECOND="0",
        OUTREACH_DISPATCH_INTERVAL_SECONDS="0.2",
        OUTREACH_DISPATCH_LEASE_SECONDS=str(LEASE_SECONDS),
        # No quiet hours: the worker runs on the real clock, whatever the hour in Baku.
        OUTREACH_QUIET_HOURS_START="00:00",
        OUTREACH_QUIET_HOURS_END="00:00",
    )
    return env


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-c", "from outreach.cli import main; main()", "worker"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def wait_for(predicate, what: str, log: Path) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    text = "\n".join(x for x in log.read_text().splitlines() if "apscheduler" not in x)
    raise AssertionError(f"timed out waiting for {what}; worker log:\n{text[-3000:]}")


def rows(ctx: AppContext) -> list[OutboxMessage]:
    with ctx.sessions() as session:
        return list(session.scalars(select(OutboxMessage)))


def test_sigkill_mid_dispatch_then_restart_sends_each_due_message_once(
    ctx: AppContext, server: FakeTwilioServer, tmp_path: Path
) -> None:
    ctx.settings.quiet_hours_start = ctx.settings.quiet_hours_end = "00:00"  # as in worker_env
    campaign_id = make_campaign(ctx, followups=ONE_MESSAGE)
    now = utcnow()
    with ctx.sessions.begin() as session:
        for number in PEOPLE:
            opt_in(
                session,
                ctx,
                campaign_id=campaign_id,
                number=number,
                language="az",
                channel="sms",
                now=now,
            )
    env, log = worker_env(ctx, server), tmp_path / "worker.log"

    first = start_worker(env, log)
    try:
        wait_for(lambda: server.total >= len(PEOPLE) // 3, "the first sends", log)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    assert first.returncode == -signal.SIGKILL
    sent_before_restart = server.total
    in_flight = {r.contact_id for r in rows(ctx) if r.status == OutboxStatus.CLAIMED}
    assert 0 < sent_before_restart < len(PEOPLE), "the kill did not land mid-dispatch"
    assert in_flight, "no rows were claimed at the kill"

    second = start_worker(env, log)
    try:
        wait_for(lambda: all(r.status in HANDED_OVER for r in rows(ctx)), "every row sent", log)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=30)

    counts = server.per_to
    print(
        f"sent before kill {sent_before_restart}, claimed at kill {len(in_flight)}, "
        f"sent twice {sum(1 for c in counts.values() if c > 1)}"
    )
    assert set(counts) == set(PEOPLE), "a due message was lost"
    twice = {number for number, n in counts.items() if n > 1}
    assert all(n <= 2 for n in counts.values())
    # Only the one request on the wire at the kill may repeat; every other row went out once.
    assert len(twice) <= 1
    assert {ctx.contact_id(n) for n in twice} <= in_flight
    assert sum(counts.values()) == len(PEOPLE) + len(twice)
    final = rows(ctx)
    assert all(r.message_sid for r in final)
    assert len({r.message_sid for r in final}) == len(PEOPLE)


def test_the_fake_counts_no_message_whose_body_never_arrived(server: FakeTwilioServer) -> None:
    # A worker killed between a create's headers and its body leaves half a request: Twilio
    # creates nothing from it, so the SIGKILL test must not count it as a message either.
    path = "/2010-04-01/Accounts/AC00000000000000000000000000000000/Messages.json"
    body = b"To=%2B994502000001&From=%2B994125550100&Body=hi"
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        head = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n"
        head += "Content-Type: application/x-www-form-urlencoded\r\n\r\n"
        sock.sendall(head.encode())  # the headers went out, then the "process" died
    time.sleep(0.5)  # the fake has read the end of that connection
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        head = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n"
        head += "Content-Type: application/x-www-form-urlencoded\r\nConnection: close\r\n\r\n"
        sock.sendall(head.encode() + body)
        assert b" 201 " in sock.recv(4096)
    deadline = time.monotonic() + 5
    while sum(server.per_to.values()) < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert dict(server.per_to) == {"+994502000001": 1}
