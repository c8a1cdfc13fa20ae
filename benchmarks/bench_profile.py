"""Where a server spends its time under load: py-spy on its processes, summed by function.

py-spy (PyPI: pip install py-spy) samples the server's processes during an extra round (not
counted in the results), twice:
- "gil": only the thread holding the GIL, i.e. where Python itself spends the CPU;
- "wall": every thread, idle or not. Samples of idle threads (a thread-pool worker waiting
  for work, the event loop waiting in select) are left out and counted apart, so what is
  left is time spent on requests, running or blocked (a lock, the database).
`--format raw` writes collapsed stacks ("frame;frame;… count", frames "function (file:line)"),
summed here into the share of samples each function is on the stack of (inclusive) and at
the top of (self).
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
    inclusive: list[tuple[str, float]]
    own: list[tuple[str, float]]


def summarise(raw: Path, top: int = 25) -> Summary:
    """Sums collapsed stacks into the top functions by inclusive and by self share."""
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
        for name in set(frames):
            inclusive[name] += count
        own[frames[-1]] += count
    share = 100.0 / total if total else 0.0
    return Summary(
        samples=total,
        idle=idle,
        inclusive=[(n, c * share) for n, c in inclusive.most_common(top)],
        own=[(n, c * share) for n, c in own.most_common(top)],
    )


def markdown(summary: Summary, title: str) -> str:
    lines = [f"#### {title}", ""]
    lines += [f"{summary.samples} samples ({summary.idle} more of idle threads left out).", ""]
    lines += ["| inclusive % | function |", "|---:|---|"]
    lines += [f"| {pct:.1f} | `{name}` |" for name, pct in summary.inclusive]
    lines += ["", "| self % | function |", "|---:|---|"]
    lines += [f"| {pct:.1f} | `{name}` |" for name, pct in summary.own]
    return "\n".join(lines) + "\n"
