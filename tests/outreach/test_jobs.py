"""The one scheduler: every domain's jobs, each run once per tick, and `worker --once`."""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from campaigns.followups.tasks import DISPATCH
from campaigns.reports.tasks import ROLLUP_REFRESH
from campaigns.retention.tasks import PURGE
from campaigns.voice.tasks import CALLBACK_RETRIES
from outreach import jobs
from outreach.cli import app as cli
from outreach.core.context import AppContext
from outreach.core.scheduling import DailyAt, Every, Job, JobRun

NOW = datetime(2027, 2, 1, 10, 0, 7, tzinfo=UTC)
EVERY_JOB = [DISPATCH, CALLBACK_RETRIES, ROLLUP_REFRESH, PURGE]


def _ledger(ctx: AppContext) -> dict[str, JobRun]:
    with ctx.sessions() as session:
        rows = {row.name: row for row in session.scalars(select(JobRun))}
        session.expunge_all()
    return rows


def test_every_domain_declares_its_job_with_intervals_from_the_settings(
    ctx: AppContext,
) -> None:
    s = ctx.settings
    declared = {job.name: job for job in jobs.declared_jobs(s)}
    assert list(declared) == EVERY_JOB
    assert declared[DISPATCH].trigger == Every(s.dispatch_interval_seconds)
    assert declared[DISPATCH].at_start
    assert declared[CALLBACK_RETRIES].trigger == Every(60)
    assert declared[ROLLUP_REFRESH].trigger == Every(s.rollup_refresh_seconds)
    assert declared[PURGE].trigger == DailyAt(3, 30, s.default_timezone)
    s.retention_purge_interval_seconds = 2
    assert jobs.declared_jobs(s)[-1].trigger == Every(2)


def test_settings_turn_single_jobs_off(ctx: AppContext) -> None:
    s = ctx.settings
    s.twilio_account_sid, s.callback_retry_seconds = "", 0
    s.rollup_refresh_seconds, s.retention_days = 0, 0
    assert jobs.declared_jobs(s) == []


def test_a_tick_runs_once_and_records_its_success(ctx: AppContext) -> None:
    runs: list[AppContext] = []
    job = Job("test-job", Every(5), runs.append)
    assert jobs.run_tick(ctx, job, now=NOW)
    assert not jobs.run_tick(ctx, job, now=NOW + timedelta(seconds=2))  # the same slot
    assert jobs.run_tick(ctx, job, now=NOW + timedelta(seconds=3))  # the next one
    assert runs == [ctx, ctx]
    row = _ledger(ctx)["test-job"]
    assert row.last_tick == Every(5).tick(NOW + timedelta(seconds=3))
    assert row.last_success_at is not None and row.last_error is None


def test_a_failing_job_is_recorded_and_runs_again_next_tick(ctx: AppContext) -> None:
    calls: list[int] = []

    def flaky(_ctx: AppContext) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError("+994501234567 unreachable")  # a message is never stored

    job = Job("flaky", Every(5), flaky)
    assert jobs.run_tick(ctx, job, now=NOW)
    row = _ledger(ctx)["flaky"]
    assert row.last_error == "ConnectionError" and row.last_success_at is None
    assert jobs.run_tick(ctx, job, now=NOW + timedelta(seconds=5))
    assert _ledger(ctx)["flaky"].last_error is None and len(calls) == 2


def test_worker_once_runs_every_job_and_says_how_each_went(
    ctx: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = ctx.settings
    for name in ("database_url", "hash_key", "encryption_key", "session_secret"):
        monkeypatch.setenv(f"OUTREACH_{name.upper()}", getattr(s, name))
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", s.twilio_account_sid)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", s.twilio_auth_token)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        result = CliRunner().invoke(cli, ["worker", "--once"])
    finally:  # the command sets up logging to its own (now closed) stderr
        root.handlers[:] = handlers
        root.setLevel(level)
    assert result.exit_code == 0, result.output
    assert [line.split(":")[0] for line in result.stdout.splitlines()] == EVERY_JOB
    ledger = _ledger(ctx)
    assert set(ledger) == set(EVERY_JOB)
    assert all(row.last_success_at is not None for row in ledger.values())
    # --once runs outside the ticks: a scheduled run still gets its own.
    assert all(row.last_tick == -1 for row in ledger.values())


def test_the_at_start_run_happens_and_a_stop_right_after_start_kills_no_thread(
    ctx: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = ctx.settings
    s.dispatch_interval_seconds = 3600  # its slots are far apart: a run now is the at-start one
    s.callback_retry_seconds, s.rollup_refresh_seconds, s.retention_days = 0, 0, 0
    assert [job.name for job in jobs.declared_jobs(s)] == [DISPATCH]
    died: list[str] = []
    monkeypatch.setattr(threading, "excepthook", lambda hook: died.append(repr(hook.exc_value)))
    stop = jobs.start(ctx)
    deadline = time.monotonic() + 10
    while DISPATCH not in _ledger(ctx) and time.monotonic() < deadline:
        time.sleep(0.05)
    stop()
    assert DISPATCH in _ledger(ctx), "the at-start run did not happen"
    for _ in range(20):  # APScheduler 3 used to fail removing a spent one-off job here
        jobs.start(ctx)()
    assert died == []
