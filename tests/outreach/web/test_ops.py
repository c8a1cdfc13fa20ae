"""/metrics (bearer token, the metrics of issue 12), /readyz (database, schema head, scheduler)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from campaigns.followups.models import Enrollment, OutboxMessage, OutboxStatus
from campaigns.followups.service import opt_in
from campaigns.registry.models import Campaign
from ivr_flows.loader import FlowError
from ivr_flows.model import Issue
from outreach.app import create_app
from outreach.core import scheduling
from outreach.core.context import AppContext
from tests.support.app import signed_post
from tests.support.fake_twilio import error_response
from tests.support.followups import PERSON, Clock, baku, dispatch, fake_gateway, make_campaign
from tests.support.voice import Caller

TOKEN = "metrics-token-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(exposition: str) -> Samples:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(exposition)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def ops(loaded: AppContext) -> Iterator[TestClient]:
    """The service with the demo campaigns and a metrics token."""
    settings = loaded.settings.model_copy(update={"metrics_token": TOKEN})
    ctx = AppContext(settings=settings, engine=loaded.engine, sessions=loaded.sessions)
    with TestClient(create_app(ctx=ctx, migrate=False, start_background=False)) as client:
        yield client


def scrape(client: TestClient) -> Samples:
    response = client.get("/metrics", headers=AUTH)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return parse(response.text)


def sms(client: TestClient, body: str, sid: str, to: str = "+994502000101") -> str:
    params = {"MessageSid": sid, "From": "+994501234567", "To": to, "Body": body}
    response = signed_post(client, "/twilio/sms", params)
    assert response.status_code == 200
    return str(response.text)


def test_metrics_are_off_without_a_token(client: TestClient) -> None:
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers=AUTH).status_code == 404


@pytest.mark.parametrize(
    "header",
    [None, "Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x", TOKEN, "Bearer "],
)
def test_metrics_refuse_a_missing_or_wrong_token(ops: TestClient, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    response = ops.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "outreach_" not in response.text


def test_sms_outcomes_are_counted_once_each(ops: TestClient) -> None:
    before = scrape(ops)
    sms(ops, "iş", "SM" + "1" * 32)  # a keyword
    sms(ops, "iş", "SM" + "1" * 32)  # Twilio's retry of the same message
    sms(ops, "salam", "SM" + "2" * 32)  # matches nothing
    sms(ops, "HELP", "SM" + "3" * 32)  # a command word
    after = scrape(ops)
    name = "outreach_webhook_outcomes_total"
    for outcome, expected in (("matched", 1), ("duplicate", 1), ("unmatched", 1), ("command", 1)):
        delta = value(after, name, webhook="sms", outcome=outcome) - value(
            before, name, webhook="sms", outcome=outcome
        )
        assert delta == expected, outcome


def test_sms_apology_is_counted(ops: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr("webhooks.sms.handle_inbound_sms", broken)
    labels = {"webhook": "sms", "outcome": "apology"}
    before = value(scrape(ops), "outreach_webhook_outcomes_total", **labels)
    assert "Sorry" in sms(ops, "iş", "SM" + "4" * 32)
    assert value(scrape(ops), "outreach_webhook_outcomes_total", **labels) == before + 1


def test_requests_are_counted_by_route_template_not_raw_path(ops: TestClient) -> None:
    before = scrape(ops)
    for number in ("+994501111111", "+994502222222"):
        ops.get(f"/api/campaigns/{number}")  # 401: not logged in; the path holds a number
    ops.get("/no/such/page/994501234567")
    after = scrape(ops)
    route = "/api/campaigns/{code}"
    counted = {labels for name, labels in after if name == "outreach_http_requests_total"}
    assert all("994" not in v for labels in counted for _, v in labels), counted
    label = {"method": "GET", "route": route, "status": "401"}
    requests = "outreach_http_requests_total"
    assert value(after, requests, **label) - value(before, requests, **label) == 2
    unmatched = {"method": "GET", "route": "(unmatched)", "status": "404"}
    assert value(after, requests, **unmatched) - value(before, requests, **unmatched) == 1
    count = "outreach_http_request_duration_seconds_count"
    assert value(after, count, method="GET", route=route) >= 2


def test_calls_started_and_ended_are_counted(ops: TestClient) -> None:
    before = scrape(ops)
    call = Caller(ops, "+994125550101")
    call.start()
    call.retry()  # Twilio's retry of the call entry starts nothing new
    assert call.status("completed") == 204
    assert call.status("completed") == 204  # a repeated status callback
    after = scrape(ops)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("outreach_calls_started_total", direction="inbound") == 1
    assert delta("outreach_webhook_outcomes_total", webhook="voice", outcome="apology") == 0
    assert delta("outreach_calls_ended_total", outcome="hung_up") == 1


def test_outbox_backlog_and_oldest_due_age_come_from_the_database(
    ops: TestClient, loaded: AppContext
) -> None:
    assert value(scrape(ops), "outreach_outbox_backlog") == 0
    assert value(scrape(ops), "outreach_outbox_oldest_due_age_seconds") == 0
    now = datetime.now(UTC)
    with loaded.sessions.begin() as session:
        campaign = session.query(Campaign).first()
        assert campaign is not None
        enrollment = Enrollment(
            campaign_id=campaign.id,
            series_id="info",
            contact_id="c1",
            channel="sms",
            language="az",
            sender="+994502000101",
            timezone="Asia/Baku",
        )
        session.add(enrollment)
        session.flush()
        for step, (due, status) in enumerate(
            [
                (now - timedelta(hours=2), OutboxStatus.PENDING),
                (now - timedelta(minutes=5), OutboxStatus.PENDING),
                (now + timedelta(days=1), OutboxStatus.PENDING),  # not due yet
                (now - timedelta(days=3), OutboxStatus.SENT),  # done
            ]
        ):
            session.add(
                OutboxMessage(
                    enrollment_id=enrollment.id,
                    campaign_id=campaign.id,
                    contact_id="c1",
                    step=step,
                    due_at=due,
                    status=status,
                )
            )
    samples = scrape(ops)
    assert value(samples, "outreach_outbox_backlog") == 2
    age = value(samples, "outreach_outbox_oldest_due_age_seconds")
    assert 2 * 3600 <= age < 3 * 3600
    assert value(samples, "outreach_database_up") == 1


def test_job_last_success_is_read_from_the_ledger(ops: TestClient, loaded: AppContext) -> None:
    at = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    scheduling.record(loaded.engine, "reports-rollup-refresh", now=at)
    scheduling.record(loaded.engine, "retention-purge", now=at, error="OperationalError")
    samples = scrape(ops)
    name = "outreach_job_last_success_timestamp_seconds"
    assert value(samples, name, job="reports-rollup-refresh") == at.timestamp()
    assert (name, frozenset({("job", "retention-purge")})) not in samples  # never succeeded


def test_readyz_is_200_at_the_schema_head(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "ready"


def test_readyz_is_503_when_the_schema_is_behind(client: TestClient, ctx: AppContext) -> None:
    with ctx.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    response = client.get("/readyz")
    assert response.status_code == 503
    (reason,) = response.json()["reasons"]
    assert reason.startswith("schema: at revision 0001")
    assert client.get("/healthz").status_code == 200  # liveness is not readiness


def test_readyz_is_503_when_this_process_scheduler_stops_ticking(ctx: AppContext) -> None:
    settings = ctx.settings.model_copy(update={"scheduler_enabled": True})
    running = AppContext(settings=settings, engine=ctx.engine, sessions=ctx.sessions)
    app = create_app(ctx=running, migrate=False, start_background=True)
    with TestClient(app) as client:
        assert client.get("/readyz").status_code == 200
        app.state.heartbeat.last -= 3600  # as if the scheduler had been silent for an hour
        response = client.get("/readyz")
    assert response.status_code == 503
    (reason,) = response.json()["reasons"]
    assert reason.startswith("scheduler: has not ticked for 36")


def test_readyz_ignores_the_scheduler_where_it_does_not_run(app: Any) -> None:
    with TestClient(app) as client:
        assert app.state.heartbeat is None  # the test settings turn the scheduler off
        assert client.get("/readyz").status_code == 200


def test_voice_apology_and_flow_load_errors_are_counted(
    ops: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_flow(path: Any) -> None:
        raise FlowError(str(path), [Issue("(file)", "not a flow")])

    monkeypatch.setattr("campaigns.voice.service.load_flow", broken_flow)
    before = scrape(ops)
    Caller(ops, "+994125550101").start()
    Caller(ops, "+994125559999").start()  # a number with no voice flow
    after = scrape(ops)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("outreach_flow_load_errors_total") == 1
    assert delta("outreach_webhook_outcomes_total", webhook="voice", outcome="apology") == 1
    assert delta("outreach_webhook_outcomes_total", webhook="voice", outcome="not_in_service") == 1
    assert delta("outreach_calls_started_total", direction="inbound") == 0


def sends(channel: str, status: str) -> float:
    labels = {"channel": channel, "status": status}
    return REGISTRY.get_sample_value("outreach_sends_total", labels) or 0.0


def test_sends_are_counted_by_channel_and_result(ctx: AppContext) -> None:
    ctx.clock = Clock(baku(2027, 3, 1, 12, 0))
    http = fake_gateway(ctx)
    http.script.append(error_response(500, message="try again"))  # the first attempt fails
    campaign_id = make_campaign(ctx)
    with ctx.sessions.begin() as session:
        opt_in(
            session,
            ctx,
            campaign_id=campaign_id,
            number=PERSON,
            language="az",
            channel="whatsapp",
            now=ctx.clock(),
            source="sms_yes",
        )
    before = {status: sends("whatsapp", status) for status in ("sent", "retried")}
    dispatch(ctx)
    ctx.clock.now += timedelta(minutes=5)  # past the retry delay
    dispatch(ctx)
    assert sends("whatsapp", "retried") - before["retried"] == 1
    assert sends("whatsapp", "sent") - before["sent"] == 1
