"""Memory a service process takes before it serves anything (issue 10: < 150 MB under load)."""

from __future__ import annotations

import subprocess
import sys

from outreach.web.auth import service

PROBE = """
import outreach.cli
status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines())
print(int(status["VmHWM"].split()[0]) // 1024, int(status["VmRSS"].split()[0]) // 1024)
"""


def test_importing_the_service_leaves_no_transient_peak() -> None:
    """Nothing allocated and freed at import (it was argon2's 64 MiB) raises the peak RSS."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=120
    )
    peak, now = (int(v) for v in done.stdout.split())
    assert peak - now < 24, f"peak {peak} MB against {now} MB resident after import"


def test_the_dummy_hash_has_the_hashers_parameters() -> None:
    """Unknown users are verified against it: the same cost keeps the timing the same."""
    assert not service._hasher.check_needs_rehash(service._DUMMY_HASH)
