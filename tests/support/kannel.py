"""Debian's Kannel for the tests: bearerbox and smsbox on free ports, fakesmsc as the operator.

The config is the one `outreach kannel config` prints (with --fake-smsc-port), run as the
current user with its logs in the test's folder.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote_plus, unquote_to_bytes

import httpx
import pytest
from typer.testing import CliRunner

from outreach.cli import app as cli_app
from outreach.core.settings import Settings
from tests.support.processes import DEADLINE_SECONDS, free_port, service_env

BEARERBOX = shutil.which("bearerbox") or "/usr/sbin/bearerbox"
SMSBOX = shutil.which("smsbox") or "/usr/sbin/smsbox"
FAKESMSC = "/usr/lib/kannel/test/fakesmsc"
HAVE_KANNEL = all(Path(p).exists() for p in (BEARERBOX, SMSBOX, FAKESMSC))
needs_kannel = pytest.mark.skipif(
    not HAVE_KANNEL,
    reason="needs Debian's kannel and kannel-extras (scripts/test.sh installs them)",
)


@dataclass(frozen=True)
class KannelPorts:
    admin: int
    smsbox: int
    sendsms: int
    smsc: int

    @classmethod
    def free(cls) -> KannelPorts:
        return cls(admin=free_port(), smsbox=free_port(), sendsms=free_port(), smsc=free_port())


def generated_config(settings: Settings, ports: KannelPorts, log_dir: Path) -> str:
    """Runs `outreach kannel config` with these settings; returns what it printed."""
    args = [
        "kannel",
        "config",
        f"--fake-smsc-port={ports.smsc}",
        f"--admin-port={ports.admin}",
        f"--smsbox-port={ports.smsbox}",
        f"--sendsms-port={ports.sendsms}",
        f"--log-dir={log_dir}",
    ]
    result = CliRunner().invoke(cli_app, args, env=service_env(settings), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def wait_until(predicate: Callable[[], bool], what: str, logs: list[Path]) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    tails = "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in logs if p.exists())
    raise AssertionError(f"timed out waiting for {what}\n{tails}")


def _sendsms_answers(ports: KannelPorts) -> bool:
    try:
        # Without credentials smsbox answers 403 "Authorization failed": it is up.
        return httpx.get(f"http://127.0.0.1:{ports.sendsms}/cgi-bin/sendsms", timeout=2).is_error
    except httpx.TransportError:
        return False


def _admin_answers(ports: KannelPorts) -> bool:
    try:
        httpx.get(f"http://127.0.0.1:{ports.admin}/status", timeout=2)
        return True
    except httpx.TransportError:
        return False


@contextmanager
def kannel(config: str, ports: KannelPorts, folder: Path) -> Iterator[list[Path]]:
    """Runs bearerbox then smsbox on `config`; yields their log files; stops both after."""
    conf = folder / "kannel.conf"
    conf.write_text(config)
    logs = [folder / "bearerbox.log", folder / "smsbox.log", folder / "boxes.out"]
    out = logs[2].open("ab")
    boxes: list[subprocess.Popen[bytes]] = []
    try:
        boxes.append(subprocess.Popen([BEARERBOX, str(conf)], stdout=out, stderr=out))
        wait_until(lambda: _admin_answers(ports), "bearerbox", logs)
        boxes.append(subprocess.Popen([SMSBOX, str(conf)], stdout=out, stderr=out))
        wait_until(lambda: _sendsms_answers(ports), "smsbox", logs)
        yield logs
    finally:
        for box in reversed(boxes):
            box.terminate()
            try:
                box.wait(timeout=20)
            except subprocess.TimeoutExpired:
                box.kill()
                box.wait()
        out.close()


@dataclass(frozen=True)
class Received:
    """A message the fake operator received (parts of a concatenated one joined)."""

    sender: str
    receiver: str
    text: str
    parts: int


class FakeSmsc:
    """fakesmsc connected to bearerbox: sends the given MO texts, collects what comes back."""

    def __init__(self, ports: KannelPorts, messages: list[str], folder: Path) -> None:
        self.lines: list[str] = []
        self.log = folder / "fakesmsc.out"
        args = [FAKESMSC, "-H", "127.0.0.1", "-r", str(ports.smsc), "-i", "0.2"]
        args += ["-m", str(len(messages)), *messages]
        self.process = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=False
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        with self.log.open("ab") as log:
            for raw in self.process.stdout:
                log.write(raw)
                self.lines.append(raw.decode("latin-1"))

    def received(self) -> list[Received]:
        """What arrived so far, concatenated parts joined; incomplete ones left out."""
        return _join([m for line in list(self.lines) if (m := _parse(line)) is not None])

    def wait_for(self, count: int, logs: list[Path]) -> list[Received]:
        wait_until(lambda: len(self.received()) >= count, f"{count} message(s) at fakesmsc", logs)
        return self.received()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._reader.join(timeout=5)


@contextmanager
def fakesmsc(ports: KannelPorts, messages: list[str], folder: Path) -> Iterator[FakeSmsc]:
    smsc = FakeSmsc(ports, messages, folder)
    try:
        yield smsc
    finally:
        smsc.stop()


@dataclass(frozen=True)
class _Part:
    sender: str
    receiver: str
    payload: bytes
    ucs2: bool
    ref: tuple[int, int, int] | None  # (reference, parts, this part)


def _parse(line: str) -> _Part | None:
    """Reads fakesmsc's 'Got message N: <sender receiver type [udh] data>'."""
    if "Got message" not in line or "<" not in line:
        return None
    inner = line[line.index("<") + 1 : line.rindex(">")]
    sender, receiver, kind, rest = inner.split(" ", 3)
    ref = None
    if kind == "udh":
        udh_raw, kind, rest = rest.split(" ", 2)
        udh = unquote_to_bytes(udh_raw)
        if len(udh) >= 6 and udh[1] == 0x00:  # concatenation, 8-bit reference
            ref = (udh[3], udh[4], udh[5])
    if kind == "text":
        return _Part(sender, receiver, unquote_plus(rest).encode("utf-8"), False, ref)
    payload = unquote_to_bytes(rest.replace("+", " "))
    # A UDH'd part comes as "data": in these tests only UCS-2 texts are long.
    return _Part(sender, receiver, payload, kind in ("ucs-2", "data"), ref)


def _join(parts: list[_Part]) -> list[Received]:
    out: list[Received] = []
    pending: dict[tuple[str, str, int], dict[int, _Part]] = {}
    for part in parts:
        if part.ref is None:
            out.append(_received([part]))
            continue
        key = (part.sender, part.receiver, part.ref[0])
        group = pending.setdefault(key, {})
        group[part.ref[2]] = part
        if len(group) == part.ref[1]:
            out.append(_received([group[i] for i in sorted(group)]))
            del pending[key]
    return out


def _received(parts: list[_Part]) -> Received:
    payload = b"".join(p.payload for p in parts)
    text = payload.decode("utf-16-be") if parts[0].ucs2 else payload.decode("utf-8")
    return Received(parts[0].sender, parts[0].receiver, text, len(parts))
