"""Webhook speed: Outreach against a floor app doing the same real work, measured in one run.

    python benchmarks/webhook_bench.py                          # SMS and voice, SQLite, wrk
    python benchmarks/webhook_bench.py --db postgres --workers 2
    python benchmarks/webhook_bench.py --rate 200               # latency at 200 requests/s

It starts the floor (benchmarks/floor_app.py: form, signature check, HMAC of the caller, one
write, TwiML) and Outreach (`outreach serve` with the demo campaigns, scheduler off), each in
its own process on 127.0.0.1 with a fresh database, then drives both with the same pre-signed
requests at the same fixed concurrency, rounds interleaved (floor, Outreach, floor, …):
- sms: keyword texts to the demo numbers (/twilio/sms), keywords and languages mixed;
- voice: a new call on a demo voice number (/twilio/voice) plus 4 menu steps
  (/twilio/voice/step?seq=N), each a valid next step of its call; a connection walks its
  calls one request after the other.
An answer is an error unless it is a 200 whose TwiML shows the work was done (a <Message>;
the call's next step), without the apology a webhook sends when it failed inside.

Closed loop (default): wrk (Debian: apt-get install -y wrk; `--driver python` uses aiohttp),
`--connections` connections. Open loop (`--rate R`): R requests/s offered on a schedule,
latency counted from when each request was due (no coordinated omission), Python only.
Printed: requests/s, p50, p99 and errors per round and their medians, Outreach/floor ratios,
server CPU time per request (user + system of all its processes and threads: steadier than
requests/s when other jobs share the machine), peak RSS (VmHWM) per server process, and the
ERROR/WARNING lines the servers logged.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import bench_profile
from bench_load import LoadResult, run_python_closed, run_python_rate, run_wrk, wrk_missing
from bench_servers import (
    FEATURES,
    Memory,
    Secrets,
    Server,
    floor_server,
    fresh_databases,
    project_server,
    serve_has_workers,
)
from bench_traffic import Request, Signer, lanes_of, sms_requests, voice_calls
from floor_app import create_schema
from sqlalchemy import create_engine, text

# Text in the apology each webhook answers when its work failed (webhooks/sms.py, voice_twiml.py).
AVOID = {"sms": "Sorry, we could not process", "voice": "Sorry, something went wrong"}


@dataclass
class Round:
    scenario: str
    target: str
    round: int
    result: LoadResult
    memory: list[Memory]
    logged_problems: int
    cpu_seconds: float = 0.0

    @property
    def cpu_ms_per_request(self) -> float:
        """Server CPU per answered request: steadier than req/s on a shared machine."""
        return 1000 * self.cpu_seconds / self.result.requests if self.result.requests else 0.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", default="sms,voice", help="sms, voice or both (sms,voice)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per server and scenario")
    parser.add_argument("--connections", type=int, default=32, help="closed-loop connections")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds first")
    parser.add_argument("--driver", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument(
        "--wrk-threads", type=int, default=1, help="wrk threads for SMS (voice: one per conn.)"
    )
    parser.add_argument("--rate", type=float, default=0.0, help="open loop: requests/s offered")
    parser.add_argument("--timeout", type=float, default=10.0, help="request timeout, seconds")
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument(
        "--postgres-url",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/",
        help="server to create (and drop) the run's databases on",
    )
    parser.add_argument("--workers", type=int, default=1, help="server processes, each server")
    parser.add_argument(
        "--project-server",
        choices=("auto", "serve", "factory"),
        default="auto",
        help="`outreach serve`, or uvicorn --factory outreach.app:create_app (auto: serve "
        "unless --workers > 1 and `outreach serve` has no --workers yet)",
    )
    parser.add_argument("--log-level", default="INFO", help="Outreach's OUTREACH_LOG_LEVEL")
    parser.add_argument(
        "--event-loop",
        choices=("asyncio", "uvloop"),
        help="both servers on this loop (default: the floor on uvicorn's own choice, uvloop "
        "where installed; Outreach on OUTREACH_EVENT_LOOP's default, auto)",
    )
    parser.add_argument("--ceiling", action="store_true", help="also FastAPI + static TwiML")
    parser.add_argument(
        "--features",
        action="store_true",
        help="also the floor with Outreach's per-request features (floor_features.py)",
    )
    parser.add_argument("--max-rate", type=float, default=4000.0, help="sizes the request pool")
    parser.add_argument("--profile", type=Path, help="py-spy an extra Outreach round into DIR")
    parser.add_argument("--json", type=Path, help="write every round and the summary here")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs, DBs)")
    parser.add_argument("--seed", type=int, default=20270110)
    return parser.parse_args(argv)


def missing_tools(args: argparse.Namespace) -> list[str]:
    """Everything the run needs that is not here (nothing is installed for you)."""
    problems = []
    if args.driver == "wrk" and args.rate <= 0 and (why := wrk_missing()):
        problems.append(why)
    if args.profile and bench_profile.py_spy() is None:
        problems.append("py-spy is not installed (pip install py-spy)")
    if args.db == "postgres":
        try:
            engine = create_engine(args.postgres_url)
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            engine.dispose()
        except Exception as exc:
            problems.append(f"PostgreSQL at {args.postgres_url} does not answer: {exc}")
    return problems


class Bench:
    def __init__(self, args: argparse.Namespace, servers: dict[str, Server], keys: Secrets):
        self.args = args
        self.servers = servers
        self.signer = Signer(keys.token)
        self.rng = random.Random(args.seed)
        self.use_wrk = args.driver == "wrk" or (args.driver == "auto" and wrk_missing() is None)
        self.rounds: list[Round] = []
        self.best_rps = 0.0
        self.work = Path(servers["floor"].log_path).parent

    @property
    def driver_name(self) -> str:
        if self.args.rate > 0:
            return f"Python open loop, {self.args.rate:g} req/s offered"
        return "wrk" if self.use_wrk else "Python closed loop (aiohttp)"

    def _pool(self, seconds: float) -> int:
        """How many requests a round may need: generous, then sized by the fastest seen."""
        if self.args.rate > 0:
            return max(10, round(self.args.rate * seconds * 1.1))
        ceiling = self.args.max_rate * seconds
        if self.best_rps <= 0:
            return max(500, round(ceiling))
        return max(500, round(min(ceiling, 2.5 * self.best_rps * seconds)))

    def _lanes(self, scenario: str, seconds: float) -> list[list[Request]]:
        count = self._pool(seconds)
        if self.args.rate > 0:
            if scenario == "sms":
                return [[r] for r in sms_requests(self.signer, count, self.rng)]
            return voice_calls(self.signer, max(1, count // 5), self.rng)
        if self.use_wrk and scenario == "sms":
            lanes = max(1, min(self.args.wrk_threads, self.args.connections))
        else:
            lanes = self.args.connections
        return lanes_of(scenario, self.signer, count, lanes, self.rng)

    def drive(
        self, target: str, scenario: str, lanes: list[list[Request]], seconds: float
    ) -> LoadResult:
        server = self.servers["floor" if target == "ceiling" else target]
        avoid = AVOID[scenario]
        if target == "ceiling":
            lanes = [
                [Request("/ceiling", r.body, r.signature, "<Message>") for r in lane]
                for lane in lanes
            ]
        if self.args.rate > 0:
            return run_python_rate(
                server.url,
                lanes,
                rate=self.args.rate,
                seconds=seconds,
                timeout=self.args.timeout,
                avoid=avoid,
            )
        if self.use_wrk:
            return run_wrk(
                server.url,
                lanes,
                connections=self.args.connections,
                seconds=seconds,
                timeout=self.args.timeout,
                avoid=avoid,
                workdir=self.work / f"wrk-{target}",
            )
        return run_python_closed(
            server.url, lanes, seconds=seconds, timeout=self.args.timeout, avoid=avoid
        )

    def targets(self, scenario: str) -> list[str]:
        extra = ["ceiling"] if self.args.ceiling and scenario == "sms" else []
        return [*extra, *self.servers]  # floor, [floor+features,] outreach, as started

    def run(self, scenario: str) -> None:
        args = self.args
        if args.warmup > 0:
            lanes = self._lanes(scenario, args.warmup)
            for target in self.targets(scenario):
                warm = self.drive(target, scenario, lanes, args.warmup)
                self.best_rps = max(self.best_rps, warm.rps)
        for server in self.servers.values():
            server.problems()  # forget what the warm-up logged
        for number in range(1, args.rounds + 1):
            lanes = self._lanes(scenario, args.duration)
            for target in self.targets(scenario):
                server = self.servers["floor" if target == "ceiling" else target]
                cpu = server.cpu_seconds()
                result = self.drive(target, scenario, lanes, args.duration)
                cpu = server.cpu_seconds() - cpu
                done = Round(
                    scenario, target, number, result, server.memory(), server.problems(), cpu
                )
                self.rounds.append(done)
                self.best_rps = max(self.best_rps, result.rps)
                print(_round_line(done), flush=True)
        if args.profile:
            self.profile(scenario)

    def profile(self, scenario: str) -> None:
        """Extra Outreach rounds under py-spy: who holds the GIL, then every busy thread."""
        folder: Path = self.args.profile
        folder.mkdir(parents=True, exist_ok=True)
        pid = self.servers["outreach"].process.pid  # type: ignore[union-attr]
        seconds = self.args.duration
        for mode in bench_profile.MODES:
            raw = folder / f"{scenario}-{mode}.txt"
            spy = bench_profile.start(pid, seconds + 1, raw, mode=mode)
            time.sleep(1.0)  # py-spy attaches
            self.drive("outreach", scenario, self._lanes(scenario, seconds), seconds)
            _, err = spy.communicate(timeout=seconds + 60)
            if not raw.exists():
                print(f"py-spy wrote nothing: {err.decode(errors='replace')[-500:]}")
                continue
            title = f"Outreach, {scenario}, py-spy --{'gil' if mode == 'gil' else 'idle'}"
            table = bench_profile.markdown(bench_profile.summarise(raw), title)
            (folder / f"{scenario}-{mode}.md").write_text(table)
            print(table)


def _round_line(r: Round) -> str:
    res = r.result
    extra = f" wrapped={res.wrapped}" if res.wrapped else ""
    sample = f" first bad answer: {res.sample[:160]!r}" if res.errors and res.sample else ""
    return (
        f"  {r.scenario:5} round {r.round} {r.target:14} {res.rps:8.1f} req/s  "
        f"p50 {res.p50_ms:7.1f} ms  p99 {res.p99_ms:7.1f} ms  errors {res.errors}"
        f"{extra}  CPU {r.cpu_ms_per_request:.2f} ms/req  peak RSS {_rss(r.memory)}  "
        f"logged {r.logged_problems}{sample}"
    )


def _rss(memory: list[Memory]) -> str:
    if not memory:
        return "-"
    if len(memory) == 1:
        return f"{memory[0].peak_mb:.0f} MB"
    return " / ".join(f"{m.role} {m.peak_mb:.0f}" for m in memory) + " MB"


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def summary(rounds: list[Round]) -> dict[str, dict[str, dict[str, float]]]:
    """Per scenario and target: medians of the rounds (rps, p50, p99), errors, peak RSS."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for r in rounds:
        out.setdefault(r.scenario, {}).setdefault(r.target, {})
    for scenario, targets in out.items():
        for target in targets:
            mine = [r for r in rounds if r.scenario == scenario and r.target == target]
            targets[target] = {
                "rps": _median([r.result.rps for r in mine]),
                "p50_ms": _median([r.result.p50_ms for r in mine]),
                "p99_ms": _median([r.result.p99_ms for r in mine]),
                "cpu_ms_per_request": _median([r.cpu_ms_per_request for r in mine]),
                "errors": float(sum(r.result.errors for r in mine)),
                "wrapped": float(sum(r.result.wrapped for r in mine)),
                "requests": float(sum(r.result.requests for r in mine)),
                "offered_rps": _median([r.result.offered_rps for r in mine]),
                "send_lag_p99_ms": _median([r.result.send_lag_p99_ms for r in mine]),
                "peak_rss_mb": max((m.peak_mb for r in mine for m in r.memory), default=0.0),
                "logged_problems": float(sum(r.logged_problems for r in mine)),
            }
    return out


def report(bench: Bench, title: str) -> str:
    rows = summary(bench.rounds)
    lines = [f"### {title}", "", f"Driver: {bench.driver_name}.", ""]
    rate = bench.args.rate > 0
    for scenario, targets in rows.items():
        lines += [f"**{scenario}**", ""]
        head = (
            "| server | req/s per round | req/s (median) | p50 ms | p99 ms | CPU ms/req | errors "
        )
        head += "| peak RSS MB | logged warn/err |"
        lines += [
            head + (" offered req/s | client lag p99 ms |" if rate else ""),
            "|---|---|---:|---:|---:|---:|---:|---:|---:|" + ("---:|---:|" if rate else ""),
        ]
        for target, s in targets.items():
            mine = [r for r in bench.rounds if r.scenario == scenario and r.target == target]
            per_round = ", ".join(f"{r.result.rps:.0f}" for r in mine)
            row = (
                f"| {target} | {per_round} | {s['rps']:.0f} | {s['p50_ms']:.1f} | "
                f"{s['p99_ms']:.1f} | {s['cpu_ms_per_request']:.2f} | {s['errors']:.0f} | "
                f"{_rss(mine[-1].memory)} | "
                f"{s['logged_problems']:.0f} |"
            )
            if rate:
                row += f" {s['offered_rps']:.0f} | {s['send_lag_p99_ms']:.1f} |"
            lines.append(row)
        floor = targets.get("floor")
        for target, label in (
            (FEATURES, "floor+features / floor"),
            ("outreach", "Outreach / floor"),
        ):
            ours = targets.get(target)
            if floor and ours and floor["rps"] > 0:
                lines.append(
                    f"| **{label}** | | **{ours['rps'] / floor['rps']:.2f}×** | "
                    f"{_ratio(ours['p50_ms'], floor['p50_ms'])} | "
                    f"{_ratio(ours['p99_ms'], floor['p99_ms'])} | "
                    f"{_ratio(ours['cpu_ms_per_request'], floor['cpu_ms_per_request'])} | | | |"
                    + (" | |" if rate else "")
                )
        wrapped = sum(s["wrapped"] for s in targets.values())
        if wrapped:
            lines += ["", f"WARNING: {wrapped:.0f} lanes ran out of requests; raise --max-rate."]
        lines.append("")
    return "\n".join(lines)


def _ratio(ours: float, floor: float) -> str:
    return f"{ours / floor:.1f}×" if floor > 0 else "-"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    scenarios = [s.strip() for s in args.scenario.split(",") if s.strip()]
    if not scenarios or any(s not in AVOID for s in scenarios):
        print(f"--scenario: choose from {', '.join(AVOID)}", file=sys.stderr)
        return 2
    if problems := missing_tools(args):
        print("missing:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 2
    if args.driver == "auto" and args.rate <= 0 and (why := wrk_missing()):
        print(f"note: {why}; using the Python closed loop, which is slower than wrk")
    how = args.project_server
    if how == "auto":
        how = "serve" if args.workers <= 1 or serve_has_workers() else "factory"
    work = Path(tempfile.mkdtemp(prefix="webhook-bench-"))
    keys = Secrets()
    servers: dict[str, Server] = {}
    load = f"{args.rate:g} req/s offered" if args.rate > 0 else f"{args.connections} connections"
    title = (
        f"{args.db}, {args.workers} process(es) per server, Outreach via {how}, {load}, "
        f"{args.duration:g} s x {args.rounds} rounds"
    )
    try:
        roles = ["floor", *([FEATURES] if args.features else []), "outreach"]
        with fresh_databases(args.db, work, args.postgres_url, roles) as urls:
            for role in roles[:-1]:
                create_schema(urls[role])
                servers[role] = floor_server(
                    work,
                    urls[role],
                    keys,
                    args.workers,
                    loop=args.event_loop,
                    features=role == FEATURES,
                )
            servers["outreach"] = project_server(
                work,
                urls["outreach"],
                keys,
                args.workers,
                how,
                args.log_level,
                loop=args.event_loop,
            )
            try:
                for server in servers.values():
                    server.launch()
                for server in servers.values():
                    server.wait_ready()
                bench = Bench(args, servers, keys)
                print(f"# webhook bench: {title}; {bench.driver_name}; work folder {work}")
                for scenario in scenarios:
                    bench.run(scenario)
            finally:
                for server in servers.values():
                    server.stop()
    except RuntimeError as exc:
        print(f"failed: {exc}", file=sys.stderr)
        return 1
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    text_report = report(bench, title)
    print()
    print(text_report)
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "title": title,
                    "driver": bench.driver_name,
                    "project_server": how,
                    "work": str(work) if args.keep else None,
                    "rounds": [{**asdict(r), "rps": r.result.rps} for r in bench.rounds],
                    "summary": summary(bench.rounds),
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
