"""The deployed topology on 127.0.0.1, as compose.yaml runs it: Debian's nginx in front of two
`outreach serve` services (OUTREACH_SCHEDULER_ENABLED=0; the second one is `serve --workers 2`),
one `outreach worker`, PostgreSQL.

A bounded mixed burst of signed webhooks goes through nginx, concurrently: keyword texts, a
keyword that offers follow-ups then the YES that takes the offer (often answered by another
process), Twilio's retries of the same MessageSid, keyword texts followed by STOP, and radio
calls walked through 4 menu steps each. Every message and call is counted once, the worker sends
each person's first follow-up exactly once to a local stand-in for Twilio, a STOP after that
cancels the rest, and `outreach report` counts what was sent.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from campaigns.followups.models import HANDED_OVER, OutboxMessage, OutboxStatus
from campaigns.registry.enums import InteractionKind
from campaigns.registry.models import Interaction
from campaigns.voice.models import Call
from outreach.core.context import AppContext
from outreach.core.db import make_engine, make_session_factory, utcnow
from outreach.core.settings import Settings
from tests.support.app import DEMO_FILE, TEST_TOKEN, make_settings
from tests.support.fake_twilio_server import FakeTwilioServer
from tests.support.processes import (
    NGINX,
    Nginx,
    OutreachProcess,
    answers,
    free_port,
    service_env,
    wait_until,
)

pytestmark = pytest.mark.skipif(not NGINX, reason="nginx is not installed (apt-get install nginx)")

NUMBER = "+994502000101"  # the flyer's and the newspaper ad's shared SMS number
OPTING_IN = [f"+99450{n:07d}" for n in range(3000000, 3000016)]
KEYWORD_ONLY = [f"+99450{n:07d}" for n in range(3100000, 3100016)]
STOPPING = [f"+99450{n:07d}" for n in range(3200000, 3200008)]  # a keyword, then STOP
CALLERS = [f"+99450{n:07d}" for n in range(3300000, 3300012)]  # a radio call of 4 steps each
RADIO = "+994125550101"  # radio.yaml: language -> topic -> "1" hear again -> "2" main menu
CALL_KEYS = ["1", "2", "1", "2"]
CONCURRENCY = 8
CLI = "from outreach.cli import main; main()"


class Topology:
    """nginx, two `outreach serve`, one `outreach worker` and the Twilio stand-in."""

    def __init__(self, database_url: str, tmp_path: Path) -> None:
        self.twilio = FakeTwilioServer().start()
        ports = [free_port(), free_port()]
        self.nginx = Nginx(tmp_path / "ngx", [f"127.0.0.1:{p}" for p in ports])
        self.settings = make_settings(
            database_url,
            public_url=self.nginx.url,
            twilio_api_base_url=self.twilio.base_url,
            send_rate_per_second=0.0,
            dispatch_interval_seconds=0.2,
            # No quiet hours: the worker runs on the real clock, whatever the hour in Baku.
            quiet_hours_start="00:00",
            quiet_hours_end="00:00",
        )
        self.env = service_env(self.settings)
        self.tmp_path = tmp_path
        self.ports = ports
        self.logs = [tmp_path / "migrate.log", self.nginx.log]
        self.processes: list[OutreachProcess] = []

    def start(self) -> None:
        """Migrates and loads the campaigns once (compose's `migrate`), then starts the rest."""
        tmp, env = self.tmp_path, self.env
        migrate = OutreachProcess(["campaigns", "load", str(DEMO_FILE)], env, self.logs[0], tmp)
        assert migrate.run() == 0, self.logs[0].read_text()
        worker_env = {**env, "OUTREACH_SCHEDULER_ENABLED": "1"}
        for args, process_env, log in [
            (["serve", "--port", str(self.ports[0])], env, "serve-a.log"),
            (["serve", "--port", str(self.ports[1]), "--workers", "2"], env, "serve-b.log"),
            (["worker"], worker_env, "worker.log"),
        ]:
            process = OutreachProcess(args, process_env, tmp / log, tmp)
            self.processes.append(process.start())
            self.logs.append(process.log)
        for port in self.ports:
            base = f"http://127.0.0.1:{port}"
            wait_until(lambda base=base: answers(base + "/healthz"), base, self.logs)
        self.nginx.start()

    def stop(self) -> None:
        self.nginx.stop()
        for process in self.processes:
            process.stop()
        self.twilio.stop()

    def post(self, path: str, params: dict[str, str]) -> httpx.Response:
        """Posts a webhook through nginx, signed for the public URL as Twilio signs it."""
        url = self.nginx.url + path
        signature = RequestValidator(TEST_TOKEN).compute_signature(url, params)
        return httpx.post(url, data=params, headers={"X-Twilio-Signature": signature}, timeout=30)

    def sms(self, sender: str, body: str, sid: str | None = None) -> tuple[str, httpx.Response]:
        """Posts a signed inbound SMS through nginx."""
        sid = sid or "SM" + secrets.token_hex(16)
        params = {
            "MessageSid": sid,
            "AccountSid": self.settings.twilio_account_sid,
            "From": sender,
            "To": NUMBER,
            "Body": body,
            "NumMedia": "0",
        }
        return sid, self.post("/twilio/sms", params)

    def call(self, caller: str) -> tuple[str, list[httpx.Response]]:
        """A radio call through nginx: the new call, then its 4 menu steps one after another."""
        sid = "CA" + secrets.token_hex(16)
        base = {
            "CallSid": sid,
            "AccountSid": self.settings.twilio_account_sid,
            "From": caller,
            "To": RADIO,
            "Direction": "inbound",
        }
        replies = [self.post("/twilio/voice", {**base, "CallStatus": "ringing"})]
        for seq, keys in enumerate(CALL_KEYS, start=1):
            step = {**base, "CallStatus": "in-progress", "Digits": keys}
            replies.append(self.post(f"/twilio/voice/step?seq={seq}", step))
        return sid, replies

    def report(self) -> dict[str, Any]:
        """`outreach report --json --exact`: what the API and the dashboard show."""
        done = subprocess.run(
            [sys.executable, "-c", CLI, "report", "--json", "--exact"],
            env=self.env,
            cwd=self.tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        result: dict[str, Any] = json.loads(done.stdout)["report"]
        return result


@pytest.fixture
def topology(database_url: str, tmp_path: Path) -> Iterator[Topology]:
    if not database_url.startswith("postgresql"):
        pytest.skip("the topology runs on PostgreSQL only (OUTREACH_TEST_POSTGRES_URL)")
    running = Topology(database_url, tmp_path)
    try:
        running.start()
        yield running
    finally:
        running.stop()


def opt_in(topology: Topology, sender: str) -> list[tuple[str, Any]]:
    """The newspaper keyword (which offers more), Twilio's retry of it, then YES."""
    sid, offer = topology.sms(sender, "qəzet")
    _, retry = topology.sms(sender, "qəzet", sid=sid)
    yes_sid, yes = topology.sms(sender, "BƏLİ")
    return [(sid, offer), (sid, retry), (yes_sid, yes)]


def stop_after_keyword(topology: Topology, sender: str) -> list[tuple[str, Any]]:
    return [topology.sms(sender, "iş"), topology.sms(sender, "STOP")]


def test_a_mixed_burst_through_nginx_is_counted_once_and_each_follow_up_is_sent_once(
    topology: Topology,
) -> None:
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        opted = [pool.submit(opt_in, topology, sender) for sender in OPTING_IN]
        keyword = [pool.submit(topology.sms, sender, "iş") for sender in KEYWORD_ONLY]
        stopping = [pool.submit(stop_after_keyword, topology, sender) for sender in STOPPING]
        calls = [pool.submit(topology.call, caller) for caller in CALLERS]
        exchanges = [x for f in opted for x in f.result()] + [f.result() for f in keyword]
        stops = [x for f in stopping for x in f.result()]
        walked = [f.result() for f in calls]

    assert [r.status_code for _, r in exchanges + stops] == [200] * len(exchanges + stops)
    offers = [r.text for _, r in exchanges[0 : 3 * len(OPTING_IN) : 3]]
    retries = [r.text for _, r in exchanges[1 : 3 * len(OPTING_IN) : 3]]
    assert all("BƏLİ yazın" in text for text in offers)
    assert retries == offers  # a retried webhook gets the same answer
    assert all("Xaricdə iş?" in r.text for _, r in exchanges[3 * len(OPTING_IN) :])
    assert all("Xaricdə iş?" in r.text for _, r in stops[0::2])
    assert all("<Message>" in r.text and "Sorry" not in r.text for _, r in stops[1::2])
    for _, replies in walked:
        assert [r.status_code for r in replies] == [200] * 5
        # each answer gathers the next step: the call really moved on, in whichever process
        for seq, answer in enumerate(replies, start=1):
            assert f"/twilio/voice/step?seq={seq}" in answer.text, answer.text
    assert len(topology.nginx.upstreams_used()) == 2, "one service answered everything"

    engine = make_engine(topology.settings.database_url)
    ctx = AppContext(
        settings=topology.settings, engine=engine, sessions=make_session_factory(engine)
    )
    later_stopping = OPTING_IN[: len(OPTING_IN) // 2]
    try:
        sids = {sid for sid, _ in exchanges + stops} | {sid for sid, _ in walked}
        with ctx.sessions() as session:
            counted = list(session.scalars(select(Interaction.external_sid)))
            steps = {sid: seq for sid, seq in session.execute(select(Call.call_sid, Call.seq))}
        assert sorted(counted) == sorted(sids), "an SMS or a call was lost or counted twice"
        assert steps == {sid: 1 + len(CALL_KEYS) for sid, _ in walked}

        def first_messages_handed_over() -> bool:
            with ctx.sessions() as session:
                due = select(OutboxMessage).where(OutboxMessage.due_at <= utcnow())
                rows = list(session.scalars(due))
            return len(rows) == len(OPTING_IN) and all(r.status in HANDED_OVER for r in rows)

        wait_until(
            first_messages_handed_over, "the worker to send the first follow-ups", topology.logs
        )
        # Half of those who said YES now say STOP: the rest of their series is cancelled.
        with ThreadPoolExecutor(CONCURRENCY) as pool:
            late = list(pool.map(lambda sender: topology.sms(sender, "STOP"), later_stopping))
        assert [r.status_code for _, r in late] == [200] * len(late)
        with ctx.sessions() as session:
            waiting = session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(
                    OutboxMessage.due_at > utcnow(), OutboxMessage.status == OutboxStatus.PENDING
                )
            )
            opt_outs = session.scalar(
                select(func.count())
                .select_from(Interaction)
                .where(Interaction.kind == InteractionKind.OPT_OUT)
            )
    finally:
        engine.dispose()
    assert topology.twilio.per_to == dict.fromkeys(OPTING_IN, 1)
    # the +2d and +7d messages wait their turn, but for those who said STOP
    assert waiting == 2 * (len(OPTING_IN) - len(later_stopping))
    assert opt_outs == len(STOPPING) + len(later_stopping)
    assert no_sender_number_stored(topology.settings)

    report = topology.report()
    texts = len(exchanges) - len(OPTING_IN) + len(stops) + len(late)  # retries are not new
    assert report["interactions"]["sms"] == texts
    assert report["interactions"]["voice"] == len(CALLERS)
    assert report["interactions"]["total"] == texts + len(CALLERS)
    assert report["calls"]["total"] == len(CALLERS)
    assert report["followups"]["opt_ins"] == len(OPTING_IN)
    assert report["followups"]["opt_outs"] == len(STOPPING) + len(later_stopping)


def no_sender_number_stored(settings: Settings) -> bool:
    """No raw number of the burst reached the interactions (their senders are keyed hashes)."""
    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(Interaction.contact_id, Interaction.number)).all()
    finally:
        engine.dispose()
    numbers = set(OPTING_IN) | set(KEYWORD_ONLY) | set(STOPPING) | set(CALLERS)
    return all(c not in numbers and n not in numbers for c, n in rows)
