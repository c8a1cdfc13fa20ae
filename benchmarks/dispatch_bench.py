"""Dispatch N due follow-up messages to a local mock of Twilio and report the throughput.

    /work/venv/bin/python benchmarks/dispatch_bench.py --messages 10000 --rate 50 --senders 4
    /work/venv/bin/python benchmarks/dispatch_bench.py --messages 10000 --rate 0      # no limit
    /work/venv/bin/python benchmarks/dispatch_bench.py --messages 2000 --rate 0 --prism

Each run builds a fresh database (a temp SQLite file, or --database-url for PostgreSQL) with
N pending outbox rows, all due now, spread round-robin over --senders sender numbers, then runs
the real Dispatcher (claim, decrypt, render, twilio Client over HTTP, record) until the outbox
is empty. The mock is tests/fake_twilio_server.py on 127.0.0.1, in its own process so it
does not share the dispatcher's GIL (or Prism with --prism).

Reported per run: messages/second end to end, and per sender the achieved rate over the run
divided by the configured rate (1.00 = held exactly) and the most messages seen in any one
second divided by the rate (how bursty it was). The summary is the median of the runs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from bisect import bisect_right
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet
from sqlalchemy import insert

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the Prism helper lives with the tests

from campaigns.followups.dispatcher import Dispatcher  # noqa: E402
from campaigns.followups.models import Enrollment, OutboxMessage  # noqa: E402
from campaigns.registry.enums import Medium  # noqa: E402
from campaigns.registry.models import Campaign, CampaignNumber  # noqa: E402
from outreach.core.context import AppContext  # noqa: E402
from outreach.core.db import make_engine, make_session_factory, upgrade_schema, utcnow  # noqa: E402
from outreach.core.settings import Settings  # noqa: E402

SERIES = {"series": [{"id": "bench", "messages": [{"text": {"az": "MİM: +994125550100"}}]}]}


def build(url: str, *, messages: int, senders: int, rate: float, base_url: str) -> AppContext:
    """Creates the schema and N due rows; returns a context pointed at the mock."""
    settings = Settings(
        database_url=url,
        public_url="https://outreach.example.org",
        twilio_account_sid="AC" + "0" * 32,
        twilio_auth_token="bench-token",  # noqa: S106
        twilio_api_base_url=base_url,
        hash_key="bench",
        encryption_key=Fernet.generate_key().decode(),
        session_secret="bench",  # noqa: S106
        send_rate_per_second=rate,
        quiet_hours_start="00:00",  # no quiet hours: the benchmark runs at any hour
        quiet_hours_end="00:00",
    )
    engine = make_engine(url)
    upgrade_schema(engine)
    ctx = AppContext(settings=settings, engine=engine, sessions=make_session_factory(engine))
    numbers = [f"+99412555{n:04d}" for n in range(senders)]
    now = utcnow() - timedelta(seconds=1)
    vault = ctx.vault
    with ctx.sessions.begin() as session:
        campaign = Campaign(
            code="BENCH",
            name="bench",
            medium=Medium.OTHER,
            languages=["az"],
            start_date=date(2027, 1, 1),
            end_date=date(2027, 12, 31),
            options={"followups": SERIES},
        )
        campaign.numbers.extend(CampaignNumber(number=n) for n in numbers)
        session.add(campaign)
        session.flush()
        people = [f"+99450{n:07d}" for n in range(messages)]
        session.execute(
            insert(Enrollment),
            [
                {
                    "campaign_id": campaign.id,
                    "series_id": "bench",
                    "contact_id": ctx.contact_id(p),
                    "channel": "sms",
                    "language": "az",
                    "sender": numbers[i % senders],
                    "timezone": "Asia/Baku",
                    "number_enc": vault.seal(p),
                    "status": "active",
                    "created_at": now,
                }
                for i, p in enumerate(people)
            ],
        )
        ids = session.execute(
            Enrollment.__table__.select().with_only_columns(Enrollment.id, Enrollment.contact_id)
        ).all()
        session.execute(
            insert(OutboxMessage),
            [
                {
                    "enrollment_id": eid,
                    "campaign_id": campaign.id,
                    "contact_id": cid,
                    "step": 0,
                    "due_at": now,
                    "status": "pending",
                    "attempts": 0,
                    "updated_at": now,
                }
                for eid, cid in ids
            ],
        )
    return ctx


def burst(times: list[float]) -> int:
    """The most arrivals within any one-second window."""
    best = 0
    for i, start in enumerate(times):
        best = max(best, bisect_right(times, start + 1.0) - i)
    return best


class ServerProcess:
    """The fake server in its own process, so it does not share the dispatcher's GIL."""

    def __init__(self) -> None:
        script = ROOT / "tests" / "fake_twilio_server.py"
        self.process = subprocess.Popen(  # noqa: S603
            [sys.executable, str(script)], stdout=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None
        self.base_url = f"http://127.0.0.1:{int(self.process.stdout.readline())}"

    def reset(self) -> None:
        httpx.delete(f"{self.base_url}/_stats")

    def stats(self) -> tuple[dict[str, int], dict[str, list[float]]]:
        data = httpx.get(f"{self.base_url}/_stats").json()
        return data["per_to"], data["times"]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def one_run(
    args: argparse.Namespace, base_url: str, server: ServerProcess | None
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.db"
        ctx = build(
            url, messages=args.messages, senders=args.senders, rate=args.rate, base_url=base_url
        )
        if server is not None:
            server.reset()
        dispatcher = Dispatcher(ctx)
        started = time.perf_counter()
        report = dispatcher.run_until_idle()
        elapsed = time.perf_counter() - started
        ctx.engine.dispose()
    result: dict[str, Any] = {
        "messages": args.messages,
        "sent": report.sent,
        "failed": report.failed,
        "seconds": round(elapsed, 2),
        "per_second": round(report.sent / elapsed, 1),
    }
    if server is not None:
        per_to, arrivals = server.stats()
        result["received"] = sum(per_to.values())
        result["duplicates"] = sum(n - 1 for n in per_to.values() if n > 1)
        if args.rate > 0:
            held, bursts = [], []
            for times in arrivals.values():
                times.sort()
                if len(times) > 1:
                    held.append((len(times) - 1) / (times[-1] - times[0]) / args.rate)
                bursts.append(burst(times) / args.rate)
            result["rate_held_min"] = round(min(held), 3)
            result["rate_held_max"] = round(max(held), 3)
            result["burst_max"] = round(max(bursts), 3)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=50.0, help="per sender, 0 = unlimited")
    parser.add_argument("--senders", type=int, default=4)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database-url", default="", help="default: a temp SQLite file")
    parser.add_argument("--prism", action="store_true", help="send to Prism instead of the fake")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    prism = None
    server: ServerProcess | None = None
    if args.prism:
        from prism import Prism

        prism = Prism(Path(tempfile.mkdtemp()) / "prism.log")
        prism.wait_ready()
        base_url = prism.base_url
    else:
        server = ServerProcess()
        base_url = server.base_url
    try:
        runs = [one_run(args, base_url, server) for _ in range(args.runs)]
    finally:
        if server is not None:
            server.stop()
        if prism is not None:
            prism.stop()
    summary = {
        "mock": "prism" if args.prism else "fake",
        "database": "postgresql" if args.database_url.startswith("postgres") else "sqlite",
        "rate_per_sender": args.rate,
        "senders": args.senders,
        "median_per_second": statistics.median(r["per_second"] for r in runs),
        "runs": runs,
    }
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    print(
        f"{summary['mock']} mock, {summary['database']}, {args.messages} messages, "
        f"{args.senders} sender(s) at {args.rate or 'unlimited'}/s each"
    )
    for r in runs:
        print("  run:", ", ".join(f"{k}={v}" for k, v in r.items()))
    print(f"median: {summary['median_per_second']} messages/s")


if __name__ == "__main__":
    main()
