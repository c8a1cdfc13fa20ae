"""The Twilio gateway: what it sends, how it classifies errors, retries and rate limits."""

from __future__ import annotations

import pytest
import requests

from outreach.core.context import AppContext
from outreach.core.gateway import GatewayError, RateLimiter, TwilioGateway, classify, get_gateway
from tests.support.fake_twilio import FakeTwilioHttp, error_response

SID = "AC" + "0" * 32


def make_gateway(
    http: FakeTwilioHttp, sleeps: list[float] | None = None, **kw: object
) -> TwilioGateway:
    record = sleeps if sleeps is not None else []
    return TwilioGateway(
        account_sid=SID,
        auth_token="tok",
        http_client=http,
        rate_per_second=0,
        sleep=record.append,
        **kw,  # type: ignore[arg-type]
    )


def test_send_sms_posts_to_from_body_and_callback_to_the_configured_base_url() -> None:
    http = FakeTwilioHttp()
    gateway = make_gateway(http, api_base_url="http://127.0.0.1:9/")
    result = gateway.send_sms(
        to="+994501234567", from_="+994125550101", body="Salam", status_callback="https://x/cb"
    )
    assert result.sid and result.sid.startswith("SM")
    assert result.status == "queued"
    (req,) = http.requests
    assert req.method == "POST"
    assert req.uri == f"http://127.0.0.1:9/2010-04-01/Accounts/{SID}/Messages.json"
    assert req.data == {
        "To": "+994501234567",
        "From": "+994125550101",
        "Body": "Salam",
        "StatusCallback": "https://x/cb",
    }
    assert req.auth == (SID, "tok")


def test_place_call_posts_url_and_returns_the_call_sid() -> None:
    http = FakeTwilioHttp()
    sid = make_gateway(http).place_call(
        to="+994501234567", from_="+994125550101", url="https://x/v"
    )
    assert sid.startswith("CA")
    assert http.requests[0].uri.endswith("/Calls.json")
    assert http.requests[0].data["Url"] == "https://x/v"


@pytest.mark.parametrize("code", [21610, 21211, 30005, 30006])
def test_number_errors_are_permanent_and_not_retried(code: int) -> None:
    http = FakeTwilioHttp(fail_with=error_response(400, code))
    with pytest.raises(GatewayError) as info:
        make_gateway(http).send_sms(
            to="+994501234567", from_="+1", body="x", status_callback=None, attempts=5
        )
    assert info.value.permanent and info.value.code == code
    assert info.value.suppress_contact is (code == 21610)
    assert len(http.requests) == 1


@pytest.mark.parametrize("status", [429, 500, 503])
def test_throttling_and_server_errors_are_retried_with_growing_delays(status: int) -> None:
    http = FakeTwilioHttp(script=[error_response(status), error_response(status)])
    sleeps: list[float] = []
    result = make_gateway(http, sleeps).send_sms(
        to="+994501234567", from_="+1", body="x", status_callback=None, attempts=3
    )
    assert result.sid
    assert len(http.requests) == 3
    assert sleeps == [0.5, 1.0]


def test_network_errors_are_transient_and_give_up_after_the_attempts() -> None:
    http = FakeTwilioHttp(fail_with=requests.ConnectionError("refused"))
    with pytest.raises(GatewayError) as info:
        make_gateway(http).send_sms(
            to="+994501234567", from_="+1", body="x", status_callback=None, attempts=2
        )
    assert not info.value.permanent
    assert info.value.status is None
    assert len(http.requests) == 2


def test_other_client_errors_are_permanent_but_auth_errors_are_not() -> None:
    assert classify(status=400, code=21604).permanent
    assert not classify(status=401, code=20003).permanent
    assert not classify(status=429, code=20429).permanent
    # Without a Twilio code the SDK reports the HTTP status as the code: not a Twilio code.
    assert classify(status=422, code=422).code is None


def test_rate_limiter_spaces_sends_per_sender_and_keeps_senders_apart() -> None:
    now = [0.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(round(seconds, 6))
        now[0] += seconds

    limiter = RateLimiter(10, clock=lambda: now[0], sleep=sleep)
    for _ in range(5):
        limiter.acquire("+1")
    assert waits == [0.1, 0.1, 0.1, 0.1]
    assert now[0] == pytest.approx(0.4)
    waits.clear()
    limiter.acquire("+2")  # another sender has its own bucket
    assert waits == []


def test_rate_limiter_gives_at_most_one_slot_of_credit_after_idling() -> None:
    now = [100.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(2, clock=lambda: now[0], sleep=sleep)
    limiter.acquire("+1")
    now[0] += 60  # long idle
    for _ in range(3):
        limiter.acquire("+1")
    assert waits == [pytest.approx(0.5)]


def test_get_gateway_builds_once_from_settings_and_honours_the_base_url(ctx: AppContext) -> None:
    ctx.settings.twilio_api_base_url = "http://127.0.0.1:4010"
    gateway = get_gateway(ctx)
    assert get_gateway(ctx) is gateway
    assert gateway.client.api.base_url == "http://127.0.0.1:4010"
