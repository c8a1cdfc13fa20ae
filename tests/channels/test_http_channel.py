"""The generic HTTP channel against a local fake aggregator (a real HTTP server)."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from sqlalchemy import func, select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from campaigns.followups.dispatcher import Dispatcher
from campaigns.followups.models import Enrollment, OutboxMessage, OutboxStatus
from campaigns.followups.replies import DEFAULTS as COMMAND_REPLIES
from campaigns.registry.models import Interaction
from campaigns.sms.models import ReplyStatus, SmsReply
from campaigns.sms.replies import send_due_replies
from outreach.app import create_app
from outreach.core.context import AppContext
from tests.channels.conftest import HTTP_NUMBER, HTTP_SECRET, PERSON, VOICE_NUMBER
from tests.support.app import signed_post
from tests.support.followups import Clock
from tests.support.privacy_scan import assert_nowhere, variants
from tests.support.server import serve

RECEIVE = f"/channels/http/{HTTP_SECRET}/receive"
STATUS = f"/channels/http/{HTTP_SECRET}/status"
TOKEN = "Bearer aggregator-token"
ACCOUNT = "{{ 'acc 1'|urlencode }}"  # the send URL is a template
COPIES = 20


@dataclass
class Aggregator:
    """Records the sends it gets; answers with `status` and `body`."""

    sent: list[dict[str, Any]] = field(default_factory=list)
    status: int = 202
    body: str = '{"result": "queued"}'

    async def send(self, request: Request) -> Response:
        self.sent.append(
            {
                "query": dict(request.query_params),
                "auth": request.headers.get("authorization"),
                "type": request.headers.get("content-type"),
                "json": json.loads(await request.body() or b"null"),
            }
        )
        return Response(self.body, status_code=self.status)


@pytest.fixture
def aggregator(channels_ctx: AppContext) -> Iterator[Aggregator]:
    fake = Aggregator()
    app = Starlette(routes=[Route("/api/send", fake.send, methods=["POST"])])
    with serve(app) as client:
        channels_ctx.settings = channels_ctx.settings.model_copy(
            update={
                "http_channel_send_url": f"{client.base_url}/api/send?account=" + ACCOUNT,
                "http_channel_auth_header": f"Authorization: {TOKEN}",
                "http_channel_success_text": "queued",
            }
        )
        yield fake


@pytest.fixture
def hclient(channels_ctx: AppContext, aggregator: Aggregator) -> Iterator[TestClient]:
    app = create_app(ctx=channels_ctx, migrate=False, start_background=False)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def count(ctx: AppContext, model: type) -> int:
    with ctx.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def message(text: str, id_: str = "agg-1", **extra: str) -> dict[str, str]:
    return {"from": PERSON.lstrip("+"), "to": HTTP_NUMBER, "text": text, "id": id_, **extra}


def test_an_inbound_message_is_answered_through_the_send_api(
    hclient: TestClient, aggregator: Aggregator, channels_ctx: AppContext
) -> None:
    response = hclient.post(RECEIVE, json=message("work"))
    assert response.status_code == 200 and response.json() == {"ok": True, "duplicate": False}
    (sent,) = aggregator.sent
    assert sent["auth"] == TOKEN and sent["type"] == "application/json"
    assert sent["query"] == {"account": "acc 1"}
    assert sent["json"]["to"] == PERSON  # the "+" the aggregator dropped is back
    assert sent["json"]["from"] == HTTP_NUMBER
    assert sent["json"]["text"].startswith("Work abroad?")
    with channels_ctx.sessions() as session:
        row = session.scalars(select(Interaction)).one()
        assert (row.gateway, row.channel, row.kind) == ("http", "sms", "keyword")


def test_a_retried_id_is_counted_once_and_answered_once(
    hclient: TestClient, aggregator: Aggregator, channels_ctx: AppContext
) -> None:
    hclient.post(RECEIVE, json=message("work"))
    again = hclient.post(RECEIVE, data=message("work"))  # a form this time
    assert again.json() == {"ok": True, "duplicate": True}
    assert count(channels_ctx, Interaction) == 1
    assert len(aggregator.sent) == 1


def test_the_field_mapping_is_configurable(
    hclient: TestClient, aggregator: Aggregator, channels_ctx: AppContext
) -> None:
    channels_ctx.settings = channels_ctx.settings.model_copy(
        update={"http_channel_field_from": "msisdn", "http_channel_field_text": "message"}
    )
    form = {"msisdn": PERSON, "to": HTTP_NUMBER, "message": "работа", "id": "m-1"}
    assert hclient.post(RECEIVE, data=form).status_code == 200
    assert aggregator.sent[0]["json"]["text"].startswith("Работа за рубежом?")


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        (RECEIVE.replace(HTTP_SECRET, "wrong-secret-0123456789"), message("work"), 403),
        (RECEIVE, {k: v for k, v in message("work").items() if k != "id"}, 400),
        (RECEIVE, {k: v for k, v in message("work").items() if k != "from"}, 400),
        (RECEIVE, message("work", to="+994125550191"), 404),
        (RECEIVE, [1, 2], 400),
        (RECEIVE, message("work", id_="x" * 300), 400),
        (STATUS, {"status": "delivered"}, 400),
    ],
)
def test_bad_input_is_a_4xx_and_nothing_is_recorded(
    hclient: TestClient,
    aggregator: Aggregator,
    channels_ctx: AppContext,
    path: str,
    body: Any,
    status: int,
) -> None:
    assert hclient.post(path, json=body).status_code == status
    assert count(channels_ctx, Interaction) == 0 and aggregator.sent == []


def test_a_followup_goes_out_and_its_status_callback_marks_it_delivered(
    hclient: TestClient, aggregator: Aggregator, channels_ctx: AppContext
) -> None:
    hclient.post(RECEIVE, json=message("iş", "a"))
    hclient.post(RECEIVE, json=message("BƏLİ", "b"))
    assert Dispatcher(channels_ctx).run_until_idle().sent == 1
    followup = aggregator.sent[-1]["json"]
    assert followup["to"] == PERSON and followup["from"] == HTTP_NUMBER
    callback = httpx.URL(followup["callback"])
    assert callback.path == STATUS
    response = hclient.post(f"{STATUS}?{callback.query.decode()}", json={"status": "delivered"})
    assert response.status_code == 200
    with channels_ctx.sessions() as session:
        row = session.scalars(select(OutboxMessage)).one()
        assert row.status == OutboxStatus.DELIVERED and row.message_sid == followup["id"]


@pytest.mark.parametrize(("status", "outcome"), [(400, "failed"), (503, "retried")])
def test_a_refused_send_is_permanent_and_a_5xx_is_retried(
    hclient: TestClient,
    aggregator: Aggregator,
    channels_ctx: AppContext,
    status: int,
    outcome: str,
) -> None:
    hclient.post(RECEIVE, json=message("iş", "a"))
    hclient.post(RECEIVE, json=message("BƏLİ", "b"))
    aggregator.status = status
    report = Dispatcher(channels_ctx).run_once()
    assert getattr(report, outcome) == 1 and report.sent == 0
    assert count(channels_ctx, Enrollment) == 1


def test_a_2xx_without_the_success_text_is_not_a_success(
    hclient: TestClient, aggregator: Aggregator, channels_ctx: AppContext
) -> None:
    hclient.post(RECEIVE, json=message("iş", "a"))
    hclient.post(RECEIVE, json=message("BƏLİ", "b"))
    aggregator.body = '{"result": "rejected"}'
    report = Dispatcher(channels_ctx).run_once()
    assert report.sent == 0 and report.retried == 1


def test_without_twilio_credentials_twilio_rows_wait_and_http_rows_go(
    hclient: TestClient, aggregator: Aggregator, channels_ctx: AppContext
) -> None:
    hclient.post(RECEIVE, json=message("iş", "a"))
    hclient.post(RECEIVE, json=message("BƏLİ", "b"))
    twilio_texter = "+994551112233"
    for sid, body in (("SM" + "1" * 32, "work"), ("SM" + "2" * 32, "YES")):
        form = {"MessageSid": sid, "From": twilio_texter, "To": VOICE_NUMBER, "Body": body}
        assert signed_post(hclient, "/twilio/sms", form).status_code == 200
    assert count(channels_ctx, OutboxMessage) == 2
    channels_ctx.settings = channels_ctx.settings.model_copy(update={"twilio_account_sid": ""})
    report = Dispatcher(channels_ctx).run_until_idle()
    assert (report.sent, report.deferred, report.failed, report.retried) == (1, 1, 0, 0)
    with channels_ctx.sessions() as session:
        statuses = sorted(session.scalars(select(OutboxMessage.status)))
        attempts = sorted(session.scalars(select(OutboxMessage.attempts)))
    assert statuses == [OutboxStatus.PENDING, OutboxStatus.SENT] and attempts[0] == 0


# The reply outbox (campaigns.sms.replies): a reply the send API could not take is kept.


def reply_rows(ctx: AppContext) -> list[SmsReply]:
    with ctx.sessions() as session:
        return list(session.scalars(select(SmsReply).order_by(SmsReply.id)))


def replies_counted(status: str) -> float:
    labels = {"gateway": "http", "status": status}
    return REGISTRY.get_sample_value("outreach_replies_total", labels) or 0.0


def test_a_reply_the_send_api_could_not_take_is_sent_by_the_retry_job(
    hclient: TestClient, aggregator: Aggregator, channels_ctx: AppContext, clock: Clock
) -> None:
    before = {status: replies_counted(status) for status in ("pending", "sent")}
    aggregator.status = 503
    response = hclient.post(RECEIVE, json=message("work"))
    assert response.status_code == 200 and response.json()["ok"] is True
    assert len(aggregator.sent) == 1  # tried at once
    (row,) = reply_rows(channels_ctx)
    assert (row.status, row.attempts, row.error) == (ReplyStatus.PENDING, 1, "503")
    base = channels_ctx.settings.send_retry_base_seconds
    assert row.due_at == clock.now + timedelta(seconds=base)
    assert channels_ctx.vault.open(row.sealed_number or "") == PERSON
    aggregator.status = 202
    assert send_due_replies(channels_ctx) == 0  # not due yet
    clock.now += timedelta(seconds=base)
    assert send_due_replies(channels_ctx) == 1
    assert len(aggregator.sent) == 2
    sent = aggregator.sent[-1]["json"]
    assert (sent["to"], sent["from"]) == (PERSON, HTTP_NUMBER)
    assert sent["text"].startswith("Work abroad?")
    (row,) = reply_rows(channels_ctx)
    assert (row.status, row.attempts, row.sent_at) == (ReplyStatus.SENT, 2, clock.now)
    assert row.sealed_number is None and row.sealed_text is None  # erased once sent
    assert send_due_replies(channels_ctx) == 0
    assert [replies_counted(s) - before[s] for s in ("pending", "sent")] == [1, 1]


def test_a_pending_reply_keeps_only_a_sealed_number(
    hclient: TestClient,
    aggregator: Aggregator,
    channels_ctx: AppContext,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    aggregator.status = 503
    hclient.post(RECEIVE, json=message("work məlumat"))
    (row,) = reply_rows(channels_ctx)
    assert row.status == ReplyStatus.PENDING
    assert_nowhere(channels_ctx, caplog, [*variants(PERSON), "məlumat"])


def test_a_retried_message_tries_its_due_reply_again_and_never_sends_two(
    hclient: TestClient, aggregator: Aggregator, channels_ctx: AppContext, clock: Clock
) -> None:
    aggregator.status = 503
    hclient.post(RECEIVE, json=message("work"))
    hclient.post(RECEIVE, json=message("work"))  # within the backoff: not tried
    assert len(aggregator.sent) == 1
    aggregator.status = 202
    clock.now += timedelta(seconds=channels_ctx.settings.send_retry_base_seconds)
    again = hclient.post(RECEIVE, json=message("work"))  # the aggregator's retry, now due
    assert again.json() == {"ok": True, "duplicate": True}
    assert len(aggregator.sent) == 2 and reply_rows(channels_ctx)[0].status == ReplyStatus.SENT
    hclient.post(RECEIVE, json=message("work"))
    assert send_due_replies(channels_ctx) == 0
    assert len(aggregator.sent) == 2
    assert count(channels_ctx, Interaction) == 1 and count(channels_ctx, SmsReply) == 1


def test_a_refused_reply_fails_at_once_and_is_erased(
    hclient: TestClient, aggregator: Aggregator, channels_ctx: AppContext, clock: Clock
) -> None:
    aggregator.status = 400
    hclient.post(RECEIVE, json=message("work"))
    (row,) = reply_rows(channels_ctx)
    assert (row.status, row.attempts, row.error) == (ReplyStatus.FAILED, 1, "400")
    assert row.sealed_number is None and row.sealed_text is None
    clock.now += timedelta(days=1)
    assert send_due_replies(channels_ctx) == 0 and len(aggregator.sent) == 1


def test_a_reply_is_given_up_after_the_last_attempt_with_doubling_waits(
    hclient: TestClient, aggregator: Aggregator, channels_ctx: AppContext, clock: Clock
) -> None:
    aggregator.status = 503
    hclient.post(RECEIVE, json=message("work"))
    attempts = channels_ctx.settings.send_max_attempts
    waits = []
    for _ in range(attempts - 1):
        row = reply_rows(channels_ctx)[0]
        waits.append((row.due_at - clock.now).total_seconds())
        clock.now = row.due_at
        assert send_due_replies(channels_ctx) == 1
    base = channels_ctx.settings.send_retry_base_seconds
    assert waits == [base * 2**n for n in range(attempts - 1)]
    (row,) = reply_rows(channels_ctx)
    assert (row.status, row.attempts) == (ReplyStatus.FAILED, attempts)
    assert row.sealed_number is None and len(aggregator.sent) == attempts


def test_a_claim_whose_process_died_is_sent_again_after_its_lease(
    hclient: TestClient, aggregator: Aggregator, channels_ctx: AppContext, clock: Clock
) -> None:
    aggregator.status = 503
    hclient.post(RECEIVE, json=message("work"))
    with channels_ctx.sessions.begin() as session:  # claimed by a process that then died
        row = session.scalars(select(SmsReply)).one()
        row.status, row.claimed_until = ReplyStatus.SENDING, clock.now + timedelta(minutes=5)
    aggregator.status = 202
    clock.now += timedelta(minutes=4)
    assert send_due_replies(channels_ctx) == 0  # its lease still holds
    clock.now += timedelta(minutes=1)
    assert send_due_replies(channels_ctx) == 1
    assert reply_rows(channels_ctx)[0].status == ReplyStatus.SENT and len(aggregator.sent) == 2


@pytest.mark.parametrize("up", [True, False], ids=["api-up", "api-down"])
def test_copies_of_one_message_at_once_queue_and_send_one_reply(
    channels_ctx: AppContext, aggregator: Aggregator, up: bool
) -> None:
    aggregator.status = 202 if up else 503
    app = create_app(ctx=channels_ctx, migrate=False, start_background=False)
    with serve(app) as client:
        barrier = threading.Barrier(COPIES)

        def post(_n: int) -> httpx.Response:
            barrier.wait(timeout=20)
            return client.post(RECEIVE, json=message("work", "copy-1"))

        with ThreadPoolExecutor(max_workers=COPIES) as pool:
            responses = list(pool.map(post, range(COPIES)))
    assert [r.status_code for r in responses] == [200] * COPIES
    assert [r.json()["duplicate"] for r in responses].count(False) == 1
    assert count(channels_ctx, Interaction) == 1
    (row,) = reply_rows(channels_ctx)
    assert row.status == (ReplyStatus.SENT if up else ReplyStatus.PENDING)
    assert row.attempts == 1 and len(aggregator.sent) == 1


def test_the_retry_job_runs_only_where_a_send_api_is_configured(
    channels_ctx: AppContext, aggregator: Aggregator
) -> None:
    from campaigns.sms.tasks import REPLY_RETRIES, jobs

    assert [job.name for job in jobs(channels_ctx.settings)] == [REPLY_RETRIES]
    without = channels_ctx.settings.model_copy(update={"http_channel_send_url": ""})
    assert jobs(without) == []


def test_stop_cancels_the_replies_not_yet_sent_and_its_own_confirmation_goes(
    hclient: TestClient, aggregator: Aggregator, channels_ctx: AppContext, clock: Clock
) -> None:
    aggregator.status = 503
    hclient.post(RECEIVE, json=message("work", "a"))
    hclient.post(RECEIVE, json=message("STOP", "b"))
    first, confirmation = reply_rows(channels_ctx)
    assert first.status == ReplyStatus.CANCELLED
    assert first.sealed_number is None and first.sealed_text is None
    assert confirmation.status == ReplyStatus.PENDING
    aggregator.status = 202
    clock.now += timedelta(days=1)
    assert send_due_replies(channels_ctx) == 1
    texts = [sent["json"]["text"] for sent in aggregator.sent]
    assert texts[-1] in COMMAND_REPLIES["stop"].values()  # the STOP's own confirmation
    assert sum(t.startswith("Work abroad?") for t in texts) == 1  # only the failed attempt


def test_a_stop_on_twilio_cancels_the_same_persons_pending_reply(
    hclient: TestClient, aggregator: Aggregator, channels_ctx: AppContext
) -> None:
    aggregator.status = 503
    hclient.post(RECEIVE, json=message("work", "a"))
    form = {"MessageSid": "SM" + "9" * 32, "From": PERSON, "To": VOICE_NUMBER, "Body": "STOP"}
    assert signed_post(hclient, "/twilio/sms", form).status_code == 200
    (row,) = reply_rows(channels_ctx)
    assert row.status == ReplyStatus.CANCELLED and row.sealed_number is None
