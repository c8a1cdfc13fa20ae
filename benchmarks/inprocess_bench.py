"""Where a webhook's time goes, without sockets: the floor and Outreach driven in one process.

    python benchmarks/inprocess_bench.py                 # SMS and voice, both apps
    python benchmarks/inprocess_bench.py --scenario voice --calls 400

Each app (the floor of floor_app.py, Outreach with the demo campaigns on SQLite) gets the same
pre-signed requests as webhook_bench.py, called as ASGI directly, one after the other: no HTTP
server, no network, no concurrency. Every answer is checked as webhook_bench checks it. For
each app and scenario it prints:

- CPU ms per request (process time; the best of 4 interleaved chunks, since this machine is
  noisy; a fifth chunk is the one profiled),
- Python function calls per request (cProfile's count, the same from run to run), and
- those calls by package, so a change that removes work shows where it did.

The ratios of the two apps are what to compare; webhook_bench.py measures the servers.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import random
import secrets
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bench_traffic import (
    ACCOUNT_SID,
    DEMO_FILE,
    PUBLIC_URL,
    Request,
    Signer,
    sms_requests,
    voice_calls,
)
from cryptography.fernet import Fernet

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
App = Callable[[dict[str, Any], Any, Any], Awaitable[None]]
CHUNKS = 5


def scope_of(request: Request) -> dict[str, Any]:
    path, _, query = request.path.partition("?")
    body = request.body.encode()
    host = PUBLIC_URL.split("//", 1)[1].rstrip("/").encode()
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [
            (b"host", host),
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"content-length", str(len(body)).encode()),
            (b"x-twilio-signature", request.signature.encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


async def call(app: App, request: Request) -> None:
    """Sends one request through the app and checks its answer as webhook_bench does."""
    body = request.body.encode()
    sent = False
    out: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        out.append(message)

    await app(scope_of(request), receive, send)
    answer = b"".join(m.get("body", b"") for m in out if m["type"] == "http.response.body")
    if out[0]["status"] != 200 or request.expect.encode() not in answer:
        raise SystemExit(f"{request.path}: {out[0]['status']} {answer[:300]!r}")


def package_of(filename: str) -> str:
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1].split("/", 1)[0]
    if filename.startswith(str(ROOT) + "/"):
        return "outreach: " + "/".join(Path(filename).relative_to(ROOT).parts[:2])
    return "builtins" if filename == "~" else "stdlib"


async def measure(app: App, lanes: list[list[Request]], warm: int) -> dict[str, Any]:
    """CPU ms/request (best chunk) and function calls per request, by package."""
    for lane in lanes[:warm]:
        for request in lane:
            await call(app, request)
    rest = lanes[warm:]
    best = float("inf")
    for index in range(CHUNKS - 1):
        chunk = rest[index::CHUNKS]
        started = time.process_time()
        for lane in chunk:
            for request in lane:
                await call(app, request)
        best = min(best, (time.process_time() - started) / max(1, sum(map(len, chunk))))
    profiled = rest[CHUNKS - 1 :: CHUNKS]
    profile = cProfile.Profile()
    profile.enable()
    for lane in profiled:
        for request in lane:
            await call(app, request)
    profile.disable()
    count = max(1, sum(map(len, profiled)))
    stats: Any = pstats.Stats(profile)
    by_package: Counter[str] = Counter()
    for (filename, _line, _name), (_cc, calls, _tt, _ct, _callers) in stats.stats.items():
        by_package[package_of(filename)] += calls
    return {
        "cpu_ms": 1e3 * best,
        "calls": stats.total_calls / count,
        "by_package": {k: v / count for k, v in by_package.most_common()},
    }


def outreach_app(work: Path, token: str) -> App:
    env = {
        "OUTREACH_DATABASE_URL": f"sqlite:///{work / 'outreach.db'}",
        "OUTREACH_PUBLIC_URL": PUBLIC_URL,
        "OUTREACH_SCHEDULER_ENABLED": "false",
        "OUTREACH_CAMPAIGNS_FILE": str(DEMO_FILE),
        "OUTREACH_LOG_LEVEL": "INFO",
        "OUTREACH_HASH_KEY": secrets.token_hex(32),
        "OUTREACH_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "OUTREACH_SESSION_SECRET": secrets.token_hex(32),
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": token,
    }
    os.environ.update(env)
    load = [sys.executable, "-c", "from outreach.cli import main; main()", "campaigns", "load"]
    subprocess.run([*load, str(DEMO_FILE)], check=True, capture_output=True, timeout=300)  # noqa: S603
    from outreach.app import create_app, settle_heap
    from outreach.core.logs import setup_logging
    from outreach.core.settings import get_settings

    settings = get_settings()
    # Logs go where a server's would, but to a file here: the text is formatted and written.
    sys.stderr = (work / "outreach.log").open("a", encoding="utf-8")
    setup_logging(settings.log_level, settings.log_format)
    app = create_app(settings, migrate=False, start_background=False)
    settle_heap()
    return app


def floor_app(work: Path, token: str) -> tuple[App, Any]:
    url = f"sqlite:///{work / 'floor.db'}"
    os.environ.update(
        {
            "FLOOR_DATABASE_URL": url,
            "FLOOR_PUBLIC_URL": PUBLIC_URL,
            "FLOOR_AUTH_TOKEN": token,
            "FLOOR_HASH_KEY": secrets.token_hex(32),
            "FLOOR_CAMPAIGNS_FILE": str(DEMO_FILE),
        }
    )
    import floor_app as floor

    floor.create_schema(url)
    app = floor.create_app()
    return app, app.router.lifespan_context(app)


async def run(args: argparse.Namespace) -> None:
    token = secrets.token_hex(16)
    signer = Signer(token)
    rng = random.Random(args.seed)
    lanes = {
        "sms": [[r] for r in sms_requests(signer, args.messages, rng)],
        "voice": voice_calls(signer, args.calls, rng),
    }
    scenarios = [s.strip() for s in args.scenario.split(",") if s.strip()]
    with tempfile.TemporaryDirectory(prefix="inprocess-bench-") as tmp:
        work = Path(tmp)
        floor, lifespan = floor_app(work, token)
        project = outreach_app(work, token)
        results: dict[str, dict[str, dict[str, Any]]] = {}
        async with lifespan:
            for scenario in scenarios:
                warm = max(1, len(lanes[scenario]) // 10)
                results[scenario] = {
                    "floor": await measure(floor, lanes[scenario], warm),
                    "outreach": await measure(project, lanes[scenario], warm),
                }
    out = sys.__stdout__ or sys.stdout
    for scenario, row in results.items():
        f, o = row["floor"], row["outreach"]
        print(f"## {scenario}", file=out)
        print("| | floor | outreach | outreach / floor |", file=out)
        print("|---|---:|---:|---:|", file=out)
        print(
            f"| CPU ms/request | {f['cpu_ms']:.3f} | {o['cpu_ms']:.3f} | "
            f"{o['cpu_ms'] / f['cpu_ms']:.2f}× |",
            file=out,
        )
        print(
            f"| function calls/request | {f['calls']:.0f} | {o['calls']:.0f} | "
            f"{o['calls'] / f['calls']:.2f}× |",
            file=out,
        )
        print(f"\nOutreach's calls per {scenario} request, by package:\n", file=out)
        for package, calls in list(o["by_package"].items())[: args.top]:
            print(f"- {package}: {calls:.0f}", file=out)
        print(file=out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--scenario", default="sms,voice", help="sms, voice or both")
    parser.add_argument("--messages", type=int, default=3000, help="SMS requests")
    parser.add_argument("--calls", type=int, default=500, help="voice calls (5 requests each)")
    parser.add_argument("--top", type=int, default=12, help="packages listed")
    parser.add_argument("--seed", type=int, default=1)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
