"""The split set-up: a service with OUTREACH_SCHEDULER_ENABLED=0, and only `outreach worker`
running the jobs. A callback retry, a rollup refresh and a retention purge all happen."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import func, select

from campaigns.followups.tasks import DISPATCH
from campaigns.registry.models import Interaction
from campaigns.reports.models import RollupDaily, RollupState
from campaigns.reports.tasks import ROLLUP_REFRESH
from campaigns.retention.tasks import PURGE
from campaigns.voice.models import CallbackStatus, CallCallback
from campaigns.voice.tasks import CALLBACK_RETRIES
from outreach.core.context import AppContext
from outreach.core.scheduling import JobRun
from tests.support.app import sign
from tests.support.fake_twilio_server import FakeTwilioServer
from tests.support.ports import free_port
from tests.support.reports import add_interactions
from tests.support.services import healthy, process_env, start, stop, wait_for
from tests.support.voice import CALLER, TV

BAKU = ZoneInfo("Asia/Baku")
JOBS = (DISPATCH, CALLBACK_RETRIES, ROLLUP_REFRESH, PURGE)
SHORT_INTERVALS = {
    "OUTREACH_DISPATCH_INTERVAL_SECONDS": "0.5",
    "OUTREACH_CALLBACK_RETRY_SECONDS": "0.5",
    "OUTREACH_ROLLUP_REFRESH_SECONDS": "1",
    "OUTREACH_RETENTION_PURGE_INTERVAL_SECONDS": "1",
}


@pytest.fixture
def twilio() -> Iterator[FakeTwilioServer]:
    fake = FakeTwilioServer(fail_calls=1).start()  # the service's own callback attempt fails
    yield fake
    fake.stop()


def _callback(ctx: AppContext) -> CallCallback | None:
    with ctx.sessions() as session:
        row = session.scalar(select(CallCallback))
        if row is not None:
            session.expunge(row)
    return row


def _missed_call(port: int) -> None:
    form = {
        "CallSid": "CA" + secrets.token_hex(16),
        "AccountSid": "AC" + "0" * 32,
        "From": CALLER,
        "To": TV,  # a campaign number with missed-call callbacks
        "Direction": "inbound",
        "CallStatus": "ringing",
    }
    response = httpx.post(
        f"http://127.0.0.1:{port}/twilio/voice",
        data=form,
        headers={"X-Twilio-Signature": sign("/twilio/voice", form)},
        timeout=30,
    )
    assert response.status_code == 200 and "<Reject" in response.text, response.text


def _folded(ctx: AppContext, interaction_id: int, day: object) -> bool:
    """Says whether the rollups count the interaction (read without refreshing them)."""
    with ctx.sessions() as session:
        state = session.get(RollupState, "interactions")
        counted = session.scalar(
            select(func.coalesce(func.sum(RollupDaily.value), 0)).where(
                RollupDaily.metric == "interactions", RollupDaily.day == day
            )
        )
    return state is not None and state.high_water >= interaction_id and counted == 1


def _exists(ctx: AppContext, interaction_id: int) -> bool:
    with ctx.sessions() as session:
        return session.get(Interaction, interaction_id) is not None


def _all_succeeded(ctx: AppContext) -> bool:
    """Says whether every job is in the ledger, its last run a success."""
    with ctx.sessions() as session:
        ledger = {r.name: r for r in session.scalars(select(JobRun))}
    return set(ledger) == set(JOBS) and all(
        r.last_success_at is not None and r.last_error is None for r in ledger.values()
    )


def test_only_the_worker_runs_every_job_beside_a_service_without_scheduler(
    loaded: AppContext, twilio: FakeTwilioServer, tmp_path: Path
) -> None:
    old = datetime.now(UTC) - timedelta(days=30)
    add_interactions(loaded, [{"contact_id": "a" * 64, "created_at": old}])
    with loaded.sessions() as session:
        old_id = session.scalar(select(Interaction.id))
    assert old_id is not None
    port = free_port()
    env = process_env(
        loaded.settings,
        TWILIO_API_BASE_URL=twilio.base_url,
        OUTREACH_RETENTION_DAYS="7",
        OUTREACH_ROLLUP_LAG_HOURS="0",
    )
    service_log, worker_log = tmp_path / "service.log", tmp_path / "worker.log"
    service_env = {**env, "OUTREACH_SCHEDULER_ENABLED": "0", "OUTREACH_PORT": str(port)}
    service = start(["serve"], {**service_env, **SHORT_INTERVALS}, service_log)
    worker = None
    try:
        wait_for(lambda: healthy(port), "the service to answer", service_log)
        _missed_call(port)
        wait_for(
            lambda: (
                (row := _callback(loaded)) is not None
                and row.attempts == 1
                and row.status != CallbackStatus.PLACING
            ),
            "the service's own callback attempt (claimed, then its outcome recorded)",
            service_log,
        )
        row = _callback(loaded)
        assert row is not None and row.status == CallbackStatus.PENDING  # Twilio said 503
        with loaded.sessions() as session:
            new = session.scalar(select(Interaction).order_by(Interaction.id.desc()).limit(1))
        assert new is not None and new.id > old_id
        new_id, day = new.id, new.created_at.astimezone(BAKU).date()

        worker = start(["worker"], {**env, **SHORT_INTERVALS}, worker_log)
        wait_for(
            lambda: (row := _callback(loaded)) is not None and row.status == CallbackStatus.PLACED,
            "the worker to retry the callback",
            worker_log,
        )
        wait_for(lambda: _folded(loaded, new_id, day), "a rollup refresh", worker_log)
        wait_for(lambda: not _exists(loaded, old_id), "the retention purge", worker_log)
        # A job that failed once (say, two first refreshes racing) succeeds on a later tick.
        wait_for(lambda: _all_succeeded(loaded), "every job to have succeeded", worker_log)
    finally:
        worker_code = stop(worker) if worker is not None else None
        stop(service)
    assert worker_code == 0, "the worker did not stop cleanly on SIGTERM"
    assert twilio.calls_to[CALLER] == 2  # the service's failed attempt, then the worker's
    assert _exists(loaded, new_id)  # the purge kept what is recent
    assert "background jobs started" not in service_log.read_text()
    assert "background jobs started" in worker_log.read_text()
