"""Ports for the servers tests start: distinct across calls and across xdist workers.

`bind(("127.0.0.1", 0))` then close (the usual trick) hands a port back to the kernel, which
may give it to the next caller again: another xdist worker's server, or the next of the four
ports a Kannel test asks for; bearerbox then could not bind it. Here every process takes its
ports from a block of its own, below the kernel's ephemeral range (where no client socket's
port comes from), one after the other, skipping any that something else is listening on.
"""

from __future__ import annotations

import itertools
import os
import re
import socket

FIRST = 20_000
BLOCK = 500  # ports per process: 20 xdist workers (and the controller) fit below 32768


def _block() -> range:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    found = re.fullmatch(r"gw(\d+)", worker)
    index = int(found.group(1)) + 1 if found else 0
    start = FIRST + (index % 25) * BLOCK
    return range(start, start + BLOCK)


_next = itertools.cycle(_block())


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on and no other caller was given."""
    for port in itertools.islice(_next, BLOCK):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue  # in use (another program, or a server of ours still closing)
            return port
    raise RuntimeError(f"no free port left in {_block()}")
