"""The dispatcher inside the service: started with the app, sends what is due on start."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from campaigns.followups.models import OutboxStatus
from campaigns.followups.service import opt_in
from campaigns.followups.tasks import DISPATCH
from outreach import jobs
from outreach.app import create_app
from outreach.core.context import AppContext
from outreach.core.db import utcnow
from tests.support.followups import PERSON, fake_gateway, make_campaign, outbox

DEADLINE_SECONDS = 30  # a bound for polling, not a timing assertion


def _due_now(ctx: AppContext) -> None:
    ctx.settings.quiet_hours_start = ctx.settings.quiet_hours_end = "00:00"  # any hour will do
    campaign_id = make_campaign(
        ctx, followups={"series": [{"id": "a", "messages": [{"text": {"az": "x"}}]}]}
    )
    with ctx.sessions.begin() as session:
        opt_in(
            session,
            ctx,
            campaign_id=campaign_id,
            number=PERSON,
            language="az",
            channel="sms",
            now=utcnow(),
        )


def test_the_service_sends_due_messages_on_start(ctx: AppContext) -> None:
    _due_now(ctx)
    http = fake_gateway(ctx)
    ctx.settings.scheduler_enabled = True
    app = create_app(ctx=ctx, migrate=False, start_background=True)
    with TestClient(app):
        deadline = time.monotonic() + DEADLINE_SECONDS
        while time.monotonic() < deadline and not http.requests:
            time.sleep(0.02)
    assert len(http.requests) == 1
    assert outbox(ctx)[0].status == OutboxStatus.QUEUED


def test_the_scheduler_stays_off_when_disabled(ctx: AppContext) -> None:
    ctx.settings.scheduler_enabled = False
    assert jobs.start_in_service(ctx) is None


def test_without_twilio_credentials_nothing_is_sent_and_nothing_fails(ctx: AppContext) -> None:
    _due_now(ctx)
    http = fake_gateway(ctx)
    ctx.settings.scheduler_enabled = True
    ctx.settings.twilio_account_sid = ""
    assert DISPATCH not in {job.name for job in jobs.declared_jobs(ctx.settings)}
    assert not any(jobs.run_all_once(ctx).values())  # every other job runs, and succeeds
    assert not http.requests
    assert outbox(ctx)[0].status == OutboxStatus.PENDING
