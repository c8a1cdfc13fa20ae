"""Load drivers for webhook_bench.py: wrk (closed loop), and Python closed and open loops.

Every driver takes `lanes`: ordered lists of pre-signed requests, one per connection (or per
wrk thread), sent one after the other, so a call's steps never overtake each other. An
answer is an error unless it is a 200 that contains the request's `expect` text and not the
`avoid` text (the apology a webhook sends when it failed inside).
"""

from __future__ import annotations

import asyncio
import json
import math
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from bench_traffic import Request

LUA = Path(__file__).resolve().parent / "wrk_replay.lua"
FORM = "application/x-www-form-urlencoded"


@dataclass
class LoadResult:
    """One round against one server."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    wrapped: int = 0
    detail: dict[str, int] = field(default_factory=dict)
    sample: str = ""
    offered_rps: float = 0.0
    send_lag_p99_ms: float = 0.0

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0


def percentile(sorted_values: list[float], pct: float) -> float:
    """Nearest-rank percentile of an ascending list (0 for an empty one)."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(pct / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def wrk_missing() -> str | None:
    """Says what is missing to drive load with wrk, or None."""
    if shutil.which("wrk") is None:
        return "wrk is not installed (Debian: apt-get install -y wrk)"
    return None


def run_wrk(
    base_url: str,
    lanes: list[list[Request]],
    *,
    connections: int,
    seconds: float,
    timeout: float,
    avoid: str,
    workdir: Path,
) -> LoadResult:
    """Runs wrk with one thread per lane, `connections` connections in all."""
    workdir.mkdir(parents=True, exist_ok=True)
    for index, lane in enumerate(lanes):
        (workdir / f"{index}.tsv").write_text(
            "\n".join(r.tsv() for r in lane) + "\n", encoding="utf-8"
        )
    command = [
        "wrk",
        f"-t{len(lanes)}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        f"--timeout={max(1, round(timeout))}s",
        "-s",
        str(LUA),
        base_url,
        "--",
        str(workdir),
        avoid,
    ]
    done = subprocess.run(  # noqa: S603 - a fixed argv of our own
        command, capture_output=True, timeout=seconds + timeout + 120, check=False
    )
    out = done.stdout.decode("utf-8", errors="replace")
    line = next((x for x in out.splitlines() if x.startswith("WRK-JSON ")), None)
    if done.returncode != 0 or line is None:
        err = done.stderr.decode("utf-8", errors="replace")
        raise RuntimeError(f"wrk failed ({done.returncode}): {err.strip() or out.strip()}")
    data = json.loads(line.removeprefix("WRK-JSON "))
    detail = {k: int(data[k]) for k in ("connect", "read", "write", "timeout")}
    detail.update(status=int(data["status"]), bad=int(data["bad_status"] + data["bad_body"]))
    errors = sum(detail[k] for k in ("connect", "read", "write", "timeout", "bad"))
    return LoadResult(
        requests=int(data["requests"]),
        seconds=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        max_ms=data["max_us"] / 1000,
        errors=errors,
        wrapped=int(data["wrapped"]),
        detail=detail,
        sample=str(data["sample"]),
    )


class _Tally:
    def __init__(self, avoid: str) -> None:
        self.avoid = avoid
        self.latencies: list[float] = []
        self.lags: list[float] = []
        self.errors = 0
        self.sample = ""

    async def send(
        self, http: aiohttp.ClientSession, base_url: str, request: Request, due: float
    ) -> None:
        """Posts one request; latency counts from `due`, the time it should have left."""
        headers = {"Content-Type": FORM, "X-Twilio-Signature": request.signature}
        self.lags.append(time.perf_counter() - due)
        try:
            async with http.post(base_url + request.path, data=request.body, headers=headers) as r:
                text = await r.text()
                ok = r.status == 200 and request.expect in text
                ok = ok and not (self.avoid and self.avoid in text)
                status = r.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            ok, text, status = False, repr(exc), 0
        self.latencies.append(time.perf_counter() - due)
        if not ok:
            self.errors += 1
            self.sample = self.sample or f"{status} {text[:300]}"

    def result(self, seconds: float, offered: float = 0.0) -> LoadResult:
        ordered = sorted(self.latencies)
        lags = sorted(self.lags)
        return LoadResult(
            requests=len(ordered),
            seconds=seconds,
            p50_ms=percentile(ordered, 50) * 1000,
            p99_ms=percentile(ordered, 99) * 1000,
            max_ms=(ordered[-1] if ordered else 0.0) * 1000,
            errors=self.errors,
            sample=self.sample,
            offered_rps=offered,
            send_lag_p99_ms=percentile(lags, 99) * 1000,
        )


def _session(connections: int, timeout: float) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(limit=connections, force_close=False)
    return aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=timeout))


async def _closed(
    base_url: str, lanes: list[list[Request]], seconds: float, timeout: float, avoid: str
) -> LoadResult:
    tally = _Tally(avoid)
    wrapped = 0
    async with _session(len(lanes), timeout) as http:
        start = time.perf_counter()
        deadline = start + seconds

        async def lane_loop(lane: list[Request]) -> None:
            nonlocal wrapped
            index = 0
            while time.perf_counter() < deadline:
                if index == len(lane):
                    index, wrapped = 0, wrapped + 1
                await tally.send(http, base_url, lane[index], time.perf_counter())
                index += 1

        await asyncio.gather(*(lane_loop(lane) for lane in lanes if lane))
        elapsed = time.perf_counter() - start
    result = tally.result(elapsed)
    result.wrapped = wrapped
    return result


def run_python_closed(
    base_url: str, lanes: list[list[Request]], *, seconds: float, timeout: float, avoid: str
) -> LoadResult:
    """A closed loop in Python (aiohttp): one connection per lane, each waiting its answer."""
    return asyncio.run(_closed(base_url, lanes, seconds, timeout, avoid))


async def _open(
    base_url: str,
    calls: list[list[Request]],
    rate: float,
    seconds: float,
    timeout: float,
    avoid: str,
    connections: int,
) -> LoadResult:
    tally = _Tally(avoid)
    steps = max(1, len(calls[0])) if calls else 1
    starts_per_second = rate / steps
    count = min(len(calls), max(1, round(starts_per_second * seconds)))
    async with _session(connections, timeout) as http:
        start = time.perf_counter()

        async def walk(call: list[Request], due: float) -> None:
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            for request in call:
                await tally.send(http, base_url, request, due)
                due = time.perf_counter()  # the next step is due when this answer came

        tasks = [
            asyncio.create_task(walk(calls[i], start + i / starts_per_second)) for i in range(count)
        ]
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
    return tally.result(elapsed, offered=count * steps / seconds)


def run_python_rate(
    base_url: str,
    calls: list[list[Request]],
    *,
    rate: float,
    seconds: float,
    timeout: float,
    avoid: str,
    connections: int = 512,
) -> LoadResult:
    """An open loop: `rate` requests/s offered on schedule, whatever the server's pace.

    Each entry of `calls` is a sequence (an SMS is a sequence of one, a call its 5 requests).
    Sequences start on a fixed schedule of rate/len(sequence) per second; a sequence's next
    request leaves as soon as the previous answer arrives. Latency counts from the time a
    request was due, not from when it could leave, so a slow server cannot hide its backlog
    (no coordinated omission); `send_lag_p99_ms` says how late the client itself was.
    """
    return asyncio.run(_open(base_url, calls, rate, seconds, timeout, avoid, connections))
