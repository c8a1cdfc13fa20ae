"""The tests' port helper: distinct ports, a block per xdist worker, busy ports skipped."""

from __future__ import annotations

import socket

import pytest

from tests.support import ports


def test_ports_are_never_handed_out_twice() -> None:
    given = [ports.free_port() for _ in range(50)]
    assert len(set(given)) == len(given)
    assert all(port in ports._block() for port in given)


def test_a_port_something_listens_on_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    block = ports._block()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        taken = busy.getsockname()[1]
        busy.listen()
        monkeypatch.setattr(ports, "_next", iter([taken, block[1]]))
        assert ports.free_port() == block[1]


@pytest.mark.parametrize(("worker", "index"), [("", 0), ("gw0", 1), ("gw1", 2), ("gw7", 8)])
def test_each_worker_has_a_block_below_the_ephemeral_range(
    monkeypatch: pytest.MonkeyPatch, worker: str, index: int
) -> None:
    monkeypatch.setenv("PYTEST_XDIST_WORKER", worker)
    block = ports._block()
    assert block.start == ports.FIRST + index * ports.BLOCK
    with open("/proc/sys/net/ipv4/ip_local_port_range") as ranges:
        ephemeral_start = int(ranges.read().split()[0])
    assert block.stop <= ephemeral_start
