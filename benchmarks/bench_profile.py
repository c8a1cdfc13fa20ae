"""Where a server spends its time under load: py-spy on its processes, summed by function.

py-spy (PyPI: pip install py-spy) samples the server's processes during an extra round (not
counted in the results), twice:
- "gil": only the thread holding the GIL, i.e. where Python itself spends the CPU;
- "wall": every thread, idle or not. Samples of idle threads (a thread-pool worker waiting
  for work, the event loop waiting in select) are left out and counted apart, so what is
  left is time spent on requests, running or blocked (a lock, the database).
`--format raw` writes collapsed stacks ("frame;frame;… count", frames "function (file:line)").
Each sample is put in one category (CATEGORIES: the innermost frame that matches one says
where the time went), and the tables give each category's share, each function's share at
the top of the stack (self), and Outreach's own functions' share on the stack (inclusive).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^:()]*)(?::\d+)?\)$")
SITE = re.compile(r".*/(site-packages|lib/python3\.\d+)/")


def py_spy() -> str | None:
    """The py-spy executable (beside this Python first), or None."""
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


MODES = ("gil", "wall")
# (leaf, its caller) of an idle thread: a pool worker waiting for work (stdlib queue, not
# SQLAlchemy's pool queue), or an event loop with nothing to do.
IDLE = {
    ("Condition.wait (threading.py)", "Queue.get (queue.py)"),
    ("EpollSelector.select (selectors.py)", "BaseEventLoop._run_once (asyncio/base_events.py)"),
}


# (category, text a frame contains); a sample goes to the innermost frame that matches.
CATEGORIES = (
    ("logging", "logging/__init__.py"),
    ("Twilio signature check", "twilio/request_validator.py"),
    ("TwiML rendering", "twilio/twiml"),
    ("form parsing", "formparsers.py"),
    ("form parsing", "python_multipart"),
    ("DB pool: waiting, connect, PRAGMAs", "_sqlite_pragmas"),
    ("DB pool: waiting, connect, PRAGMAs", "DefaultDialect.connect"),
    ("DB pool: waiting, connect, PRAGMAs", "DefaultDialect.do_close"),
    ("DB pool: waiting, connect, PRAGMAs", "sqlalchemy/pool/"),
    ("DB pool: waiting, connect, PRAGMAs", "sqlalchemy/util/queue.py"),
    ("DB driver: SQL execution, lock waits", "DefaultDialect.do_"),
    ("DB driver: SQL execution, lock waits", "CursorFetchStrategy"),
    ("DB driver: SQL execution, lock waits", "psycopg/"),
    ("SQLAlchemy (ORM, compile, results)", "sqlalchemy/"),
    ("flow engine (ivr_flows)", "ivr_flows/"),
    ("YAML", "yaml/"),
    ("Outreach code", "campaigns/"),
    ("Outreach code", "webhooks/"),
    ("Outreach code", "outreach/core/"),
    ("FastAPI dependencies / validation", "fastapi/dependencies"),
    ("FastAPI dependencies / validation", "pydantic"),
    ("thread hand-off (anyio)", "anyio/"),
    ("Starlette/FastAPI: middleware, routing, request", "starlette/"),
    ("Starlette/FastAPI: middleware, routing, request", "fastapi/"),
    ("HTTP server (uvicorn, h11)", "uvicorn/"),
    ("HTTP server (uvicorn, h11)", "h11/"),
    ("event loop (asyncio)", "asyncio/"),
)
OWN = ("campaigns/", "webhooks/", "outreach/core/", "ivr_flows/")


def category(frames: list[str]) -> str:
    for frame in reversed(frames):
        for name, text in CATEGORIES:
            if text in frame:
                return name
    return "other"


def start(pid: int, seconds: float, out: Path, *, mode: str) -> subprocess.Popen[bytes]:
    """Starts `py-spy record` on pid and its subprocesses for `seconds` (mode: gil | wall)."""
    exe = py_spy()
    if exe is None:
        raise RuntimeError("py-spy is not installed (pip install py-spy)")
    argv = [exe, "record", "--pid", str(pid), "--subprocesses", "--rate", "200"]
    argv += ["--duration", str(max(1, round(seconds))), "--format", "raw", "-o", str(out)]
    argv.append("--gil" if mode == "gil" else "--idle")
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # noqa: S603


def _name(frame: str) -> str:
    match = FRAME.match(frame.strip())
    if match is None:
        return frame.strip()
    where = SITE.sub("", match["file"])
    return f"{match['func']} ({where})"


@dataclass
class Summary:
    samples: int
    idle: int
    categories: list[tuple[str, float]]
    outreach: list[tuple[str, float]]
    own: list[tuple[str, float]]


def summarise(raw: Path, top: int = 20) -> Summary:
    """Sums collapsed stacks into category shares and the top functions."""
    categories: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = idle = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [
            _name(f) for f in stack.split(";") if f and not f.startswith(("process ", "thread "))
        ]
        if not frames:
            continue
        if (frames[-1], frames[-2] if len(frames) > 1 else "") in IDLE:
            idle += count
            continue
        total += count
        categories[category(frames)] += count
        for name in set(frames):
            if name.split(" (", 1)[-1].startswith(OWN):
                inclusive[name] += count
        own[frames[-1]] += count
    share = 100.0 / total if total else 0.0
    return Summary(
        samples=total,
        idle=idle,
        categories=[(n, c * share) for n, c in categories.most_common()],
        outreach=[(n, c * share) for n, c in inclusive.most_common(top)],
        own=[(n, c * share) for n, c in own.most_common(top)],
    )


def markdown(summary: Summary, title: str) -> str:
    lines = [f"#### {title}", ""]
    lines += [f"{summary.samples} samples ({summary.idle} more of idle threads left out).", ""]
    lines += ["| % of samples | where (innermost matching frame) |", "|---:|---|"]
    lines += [f"| {pct:.1f} | {name} |" for name, pct in summary.categories]
    lines += ["", "| inclusive % | Outreach function |", "|---:|---|"]
    lines += [f"| {pct:.1f} | `{name}` |" for name, pct in summary.outreach]
    lines += ["", "| self % | function |", "|---:|---|"]
    lines += [f"| {pct:.1f} | `{name}` |" for name, pct in summary.own]
    return "\n".join(lines) + "\n"
