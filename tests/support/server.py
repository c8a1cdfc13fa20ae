"""A real uvicorn server on 127.0.0.1 (in a thread, sharing the test's app) and parallel posts."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import httpx
import uvicorn

from tests.support.app import sign

START_TIMEOUT = 20.0
REQUEST_TIMEOUT = 60.0


@contextmanager
def serve(app: Any) -> Iterator[httpx.Client]:
    """Serves the app with uvicorn on a free local port; yields a client for it."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    try:
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}", timeout=REQUEST_TIMEOUT, limits=limits
        ) as client:
            yield client
    finally:
        server.should_exit = True
        thread.join(START_TIMEOUT)
        sock.close()


def post_together(
    client: httpx.Client, path: str, forms: list[dict[str, str]]
) -> list[httpx.Response]:
    """Sends each signed form at the same moment (one thread each); returns the responses."""
    barrier = threading.Barrier(len(forms))

    def post(form: dict[str, str]) -> httpx.Response:
        headers = {"X-Twilio-Signature": sign(path, form)}
        barrier.wait(timeout=START_TIMEOUT)
        return client.post(path, data=form, headers=headers)

    with ThreadPoolExecutor(max_workers=len(forms)) as pool:
        return list(pool.map(post, forms))
