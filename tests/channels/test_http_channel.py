"""The generic HTTP channel against a local fake aggregator (a real HTTP server)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from campaigns.followups.dispatcher import Dispatcher
from campaigns.followups.models import Enrollment, OutboxMessage, OutboxStatus
from campaigns.registry.models import Interaction
from outreach.app import create_app
from outreach.core.context import AppContext
from tests.channels.conftest import HTTP_NUMBER, HTTP_SECRET, PERSON, VOICE_NUMBER
from tests.support.app import signed_post
from tests.support.server import serve

RECEIVE = f"/channels/http/{HTTP_SECRET}/receive"
STATUS = f"/channels/http/{HTTP_SECRET}/status"
TOKEN = "Bearer aggregator-token"
ACCOUNT = "{{ 'acc 1'|urlencode }}"  # the send URL is a template


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
