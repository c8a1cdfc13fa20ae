"""Two service processes with the scheduler on, on one PostgreSQL database: both try every
tick of every job, and each (job, tick) runs in exactly one of them."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest
from sqlalchemy import select

from campaigns.followups.tasks import DISPATCH
from campaigns.reports.tasks import ROLLUP_REFRESH
from campaigns.retention.tasks import PURGE
from campaigns.voice.tasks import CALLBACK_RETRIES
from outreach.core.context import AppContext
from outreach.core.db import upgrade_schema
from outreach.core.scheduling import JobRun, tick_label
from tests.support.app import POSTGRES_URL, make_settings
from tests.support.ports import free_port
from tests.support.services import (
    healthy,
    postgres_schema,
    process_env,
    start,
    stop,
    wait_for,
)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES_URL, reason="OUTREACH_TEST_POSTGRES_URL is not set"),
]

JOBS = (DISPATCH, CALLBACK_RETRIES, ROLLUP_REFRESH, PURGE)
SERVICES = 2
TICKS_BOTH_TRIED = 3  # per job, before the services are stopped
# outreach/jobs.py logs each attempt at DEBUG: `job started|skipped job="NAME" tick="ISO TIME"`
# (the slot's UTC start: a tick's epoch milliseconds would be masked as a phone-like number).
ATTEMPT = re.compile(r' job (started|skipped) job="([^"]+)" tick="?([0-9T:.+-]+)"?')
Attempts = dict[tuple[str, str], list[tuple[int, str]]]


def attempts(logs: list[Path]) -> Attempts:
    """Returns, per (job, tick), which service tried it and how: [(service, outcome)]."""
    seen: Attempts = defaultdict(list)
    for service, log in enumerate(logs):
        for match in ATTEMPT.finditer(log.read_text(errors="replace") if log.exists() else ""):
            outcome, job, tick = match.groups()
            seen[(job, tick)].append((service, outcome))
    return seen


def both_tried_enough(logs: list[Path]) -> bool:
    tried: dict[str, int] = defaultdict(int)
    for (job, _tick), tries in attempts(logs).items():
        if len({service for service, _ in tries}) == SERVICES:
            tried[job] += 1
    return all(tried[job] >= TICKS_BOTH_TRIED for job in JOBS)


def test_two_services_run_each_job_once_per_tick(tmp_path: Path) -> None:
    with postgres_schema() as url:
        settings = make_settings(url)
        ctx = AppContext.from_settings(settings)
        upgrade_schema(ctx.engine)  # once, before the services start (they would race to it)
        env = process_env(
            settings,
            OUTREACH_SCHEDULER_ENABLED="1",
            OUTREACH_LOG_LEVEL="DEBUG",
            OUTREACH_DISPATCH_INTERVAL_SECONDS="0.5",
            OUTREACH_CALLBACK_RETRY_SECONDS="0.5",
            OUTREACH_ROLLUP_REFRESH_SECONDS="1",
            OUTREACH_RETENTION_PURGE_INTERVAL_SECONDS="1",
            TWILIO_API_BASE_URL="http://127.0.0.1:9",  # nothing is due; never the real Twilio
        )
        ports = [free_port() for _ in range(SERVICES)]
        logs = [tmp_path / f"service{i}.log" for i in range(SERVICES)]
        services = []
        try:
            for port, log in zip(ports, logs, strict=True):
                services.append(start(["serve"], {**env, "OUTREACH_PORT": str(port)}, log))
            for port, log in zip(ports, logs, strict=True):
                wait_for(lambda port=port: healthy(port), f"the service on {port}", log)
            wait_for(lambda: both_tried_enough(logs), "both services to try the ticks", *logs)
        finally:
            for service in services:
                stop(service)
        for log in logs:  # uvicorn then re-raises the SIGTERM, so the exit code says little
            assert "Application shutdown complete" in log.read_text(), f"{log.name} hung"

        seen = attempts(logs)
        runs = {key: [s for s, how in tries if how == "started"] for key, tries in seen.items()}
        twice = {key: who for key, who in runs.items() if len(who) != 1}
        assert not twice, f"ticks not run exactly once: {twice}"
        assert {job for job, _tick in runs} == set(JOBS)
        with ctx.sessions() as session:
            ledger = {
                row.name: tick_label(row.last_tick) for row in session.scalars(select(JobRun))
            }
        ctx.engine.dispose()
        assert ledger == {job: max(t for j, t in runs if j == job) for job in JOBS}
