"""The servers webhook_bench.py measures: the floor app and Outreach, each its own process.

Both listen on 127.0.0.1 on a free port, believe their public URL is bench_traffic.PUBLIC_URL
(so one set of signed requests is valid on both), and get a fresh database: a SQLite file in
the work folder, or a PostgreSQL database created for the run and dropped after it.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bench_traffic import ACCOUNT_SID, DEMO_FILE, PUBLIC_URL, ROOT
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

HERE = Path(__file__).resolve().parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PROBLEM = re.compile(rb"\b(ERROR|CRITICAL|Traceback)\b|\bWARNING\b")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Memory:
    """Peak and current resident memory of one process (VmHWM, VmRSS), in MB."""

    pid: int
    role: str
    peak_mb: float
    rss_mb: float


def _status(pid: int) -> dict[str, str]:
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return {}
    return dict(line.split(":\t", 1) for line in lines if ":\t" in line)


def _children(pid: int) -> list[int]:
    """Every descendant of pid (read from /proc/*/stat)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _mb(value: str) -> float:
    return int(value.split()[0]) / 1024 if value else 0.0


@dataclass
class Server:
    """A server process we started, its log and its readiness URL."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    port: int
    process: subprocess.Popen[bytes] | None = None
    log_seen: int = 0
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def launch(self) -> None:
        """Starts the process; wait_ready() then waits for its /healthz."""
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - a fixed argv of our own
            self.argv,
            env=self.env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    def wait_ready(self, ready_timeout: float = 120) -> None:
        assert self.process is not None
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited {self.process.returncode}:\n{self.tail()}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as answer:  # noqa: S310
                    if answer.status == 200:
                        self.log_seen = self.log_path.stat().st_size
                        return
            except (urllib.error.URLError, OSError):
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer /healthz in {ready_timeout:.0f} s")

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def memory(self) -> list[Memory]:
        """VmHWM/VmRSS of the server process and every process it started."""
        if self.process is None:
            return []
        out = []
        for index, pid in enumerate([self.process.pid, *_children(self.process.pid)]):
            status = _status(pid)
            if not status:
                continue
            role = "main" if index == 0 else f"child {index}"
            out.append(
                Memory(pid, role, _mb(status.get("VmHWM", "")), _mb(status.get("VmRSS", "")))
            )
        return out

    def cpu_seconds(self) -> float:
        """User + system CPU time the server's processes used so far (all their threads)."""
        if self.process is None:
            return 0.0
        ticks = 0
        for pid in [self.process.pid, *_children(self.process.pid)]:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            ticks += int(fields[11]) + int(fields[12])  # utime, stime (stat fields 14, 15)
        return ticks / CLOCK_TICKS

    def problems(self) -> int:
        """Counts the ERROR/WARNING/Traceback lines logged since the last call."""
        data = self.log_path.read_bytes()[self.log_seen :]
        self.log_seen += len(data)
        return sum(1 for line in data.splitlines() if PROBLEM.search(line))

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            # The whole session we started (uvicorn's workers with it), by its id.
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)


@dataclass(frozen=True)
class Secrets:
    token: str = field(default_factory=lambda: secrets.token_hex(16))
    hash_key: str = field(default_factory=lambda: secrets.token_hex(32))


def _base_env() -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV")
    return {k: os.environ[k] for k in keep if k in os.environ}


# The floor carrying what every Outreach webhook carries besides its work (floor_features.py).
FEATURES = "floor+features"


def floor_server(
    work: Path,
    database_url: str,
    keys: Secrets,
    workers: int,
    loop: str | None = None,
    *,
    features: bool = False,
) -> Server:
    """The floor app under uvicorn (access log off, as little as possible besides the work).

    With `features`, the floor carries what every Outreach webhook carries besides its work
    (floor_features.py), the access log line among it, as `outreach serve` writes it.
    """
    port = free_port()
    name = FEATURES if features else "floor"
    env = {
        **_base_env(),
        "PYTHONPATH": str(HERE),
        "FLOOR_DATABASE_URL": database_url,
        "FLOOR_PUBLIC_URL": PUBLIC_URL,
        "FLOOR_AUTH_TOKEN": keys.token,
        "FLOOR_HASH_KEY": keys.hash_key,
        "FLOOR_CAMPAIGNS_FILE": str(DEMO_FILE),
        "FLOOR_FEATURES": "1" if features else "",
    }
    argv = [sys.executable, "-m", "uvicorn", "--factory", "floor_app:create_app"]
    argv += ["--app-dir", str(HERE), "--host", "127.0.0.1", "--port", str(port)]
    argv += ["--log-level", "warning"] + ([] if features else ["--no-access-log"])
    if loop:
        argv += ["--loop", loop]
    if workers > 1:
        argv += ["--workers", str(workers)]
    return Server(name, argv, env, work / f"{name}.log", port)


def _outreach_argv() -> list[str]:
    script = Path(sys.executable).parent / "outreach"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from outreach.cli import main; main()"]


def serve_has_workers() -> bool:
    """True once `outreach serve` takes --workers (issue 10); until then uvicorn's is used."""
    done = subprocess.run(  # noqa: S603 - a fixed argv of our own
        [*_outreach_argv(), "serve", "--help"],
        capture_output=True,
        timeout=60,
        check=False,
        env={**_base_env(), "COLUMNS": "200"},
    )
    return b"--workers" in done.stdout


def project_server(
    work: Path,
    database_url: str,
    keys: Secrets,
    workers: int,
    how: str,
    log_level: str,
    loop: str | None = None,
) -> Server:
    """Outreach with the demo campaigns, the scheduler off.

    how = "serve": `outreach serve` (loads OUTREACH_CAMPAIGNS_FILE, then uvicorn; with
    --workers when `outreach serve` has it). how = "factory": `outreach campaigns load`, then
    `uvicorn --factory outreach.app:create_app --workers N` (uvicorn's own logging).
    """
    port = free_port()
    env = {
        **_base_env(),
        "OUTREACH_DATABASE_URL": database_url,
        "OUTREACH_PUBLIC_URL": PUBLIC_URL,
        "OUTREACH_HOST": "127.0.0.1",
        "OUTREACH_PORT": str(port),
        "OUTREACH_SCHEDULER_ENABLED": "false",
        "OUTREACH_CAMPAIGNS_FILE": str(DEMO_FILE),
        "OUTREACH_LOG_LEVEL": log_level,
        **({"OUTREACH_EVENT_LOOP": loop} if loop else {}),
        "OUTREACH_HASH_KEY": keys.hash_key,
        "OUTREACH_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "OUTREACH_SESSION_SECRET": secrets.token_hex(32),
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": keys.token,
    }
    log = work / "project.log"
    if how == "serve":
        argv = [*_outreach_argv(), "serve", "--host", "127.0.0.1", "--port", str(port)]
        if workers > 1:
            argv += ["--workers", str(workers)]
        return Server("project", argv, env, log, port)
    with log.open("ab") as out:
        subprocess.run(  # noqa: S603 - a fixed argv of our own
            [*_outreach_argv(), "campaigns", "load", str(DEMO_FILE)],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=True,
            timeout=300,
        )
    argv = [sys.executable, "-m", "uvicorn", "--factory", "outreach.app:create_app"]
    argv += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    argv += ["--loop", loop or ("asyncio" if workers == 1 else "auto")]  # as `serve` does
    return Server("project", argv, env, log, port)


@contextmanager
def fresh_databases(
    kind: str, work: Path, postgres_url: str, roles: Sequence[str] = ("floor", "outreach")
) -> Iterator[dict[str, str]]:
    """Yields a database URL per role: new SQLite files, or new PostgreSQL databases."""
    if kind == "sqlite":
        yield {role: f"sqlite:///{work / (_file_name(role) + '.db')}" for role in roles}
        return
    base = make_url(postgres_url)
    name = f"outreach_bench_{uuid.uuid4().hex[:8]}"
    names = tuple(f"{name}_{_file_name(role)}" for role in roles)
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for db in names:
            conn.execute(text(f'CREATE DATABASE "{db}"'))
    try:
        yield {
            role: base.set(database=db).render_as_string(False)
            for role, db in zip(roles, names, strict=True)
        }
    finally:
        with admin.connect() as conn:
            for db in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
        admin.dispose()


def _file_name(role: str) -> str:
    return role.replace("+", "_")
