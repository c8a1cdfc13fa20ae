"""The real service under uvicorn on 127.0.0.1, and a raw HTTP client that streams big bodies."""

from __future__ import annotations

import os
import select
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from cryptography.fernet import Fernet

from tests.support.app import PUBLIC_URL, ROOT, TEST_TOKEN
from tests.support.ports import free_port


@dataclass
class Service:
    port: int
    pid: int

    def peak_rss_kib(self) -> int:
        """The process's peak resident set size so far (VmHWM), in KiB."""
        return _status_kib(self.pid, "VmHWM")


def _status_kib(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {key} for pid {pid}")


@contextmanager
def running_service(database_url: str, log_path: Path) -> Iterator[Service]:
    """Runs `uvicorn outreach.app:create_app --factory` on a free port until the block ends."""
    port = free_port()
    env = {
        **os.environ,
        "OUTREACH_DATABASE_URL": database_url,
        "OUTREACH_PUBLIC_URL": PUBLIC_URL,
        "OUTREACH_HASH_KEY": "service-hash-key",
        "OUTREACH_SESSION_SECRET": "service-session-secret",
        "OUTREACH_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "TWILIO_AUTH_TOKEN": TEST_TOKEN,
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "OUTREACH_SCHEDULER_ENABLED": "false",
    }
    command = [sys.executable, "-m", "uvicorn", "outreach.app:create_app", "--factory"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    with log_path.open("w") as log:
        proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        try:
            _wait_healthy(proc, port)
            yield Service(port=port, pid=proc.pid)
        finally:
            proc.terminate()
            proc.wait(timeout=20)


def _wait_healthy(proc: subprocess.Popen[bytes], port: int) -> None:
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise RuntimeError("uvicorn exited; see its log")
        time.sleep(0.1)
    raise RuntimeError("uvicorn did not answer /healthz")


def stream_post(
    port: int,
    path: str,
    headers: dict[str, str],
    total: int,
    *,
    chunked: bool = True,
    chunk: int = 64 * 1024,
) -> int:
    """Sends a POST of `total` bytes the way an attacker would: it keeps sending whatever the
    server answers, until all is sent or the server drops the connection. Returns the status.
    """
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {total}")
    piece = b"a" * chunk
    frame = f"{chunk:x}\r\n".encode() + piece + b"\r\n" if chunked else piece
    answer = b""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        sent = 0
        try:
            while sent < total:
                if select.select([sock], [], [], 0)[0]:
                    data = sock.recv(65536)
                    if not data:
                        break
                    answer += data
                sock.sendall(frame)
                sent += chunk
            if chunked:
                sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            pass  # the server hung up or stopped reading
        try:
            while b"\r\n" not in answer:
                data = sock.recv(65536)
                if not data:
                    break
                answer += data
        except (ConnectionResetError, TimeoutError):
            pass
    status_line = answer.split(b"\r\n", 1)[0].decode()
    assert status_line.startswith("HTTP/1.1 "), f"no response ({answer[:80]!r})"
    return int(status_line.split()[1])
