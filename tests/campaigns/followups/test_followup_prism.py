"""Follow-ups sent through the real twilio client to Prism, which checks Twilio's own spec."""

from __future__ import annotations

from datetime import timedelta

import pytest

from campaigns.followups.models import OutboxStatus
from campaigns.followups.service import handle_sms_command, opt_in
from outreach.core.context import AppContext
from outreach.core.db import make_session_factory
from outreach.core.gateway import GatewayError, TwilioGateway, get_gateway
from outreach.core.privacy import Address
from tests.support.followups import (
    CAMPAIGN_NUMBER,
    PERSON,
    Clock,
    baku,
    dispatch,
    make_campaign,
    outbox,
)
from tests.support.prism import (
    Prism,
    failed_validation,
    message_creates,
    needs_prism,
    passed_validation,
)
from tests.support.prism import prism as prism  # the fixture, re-exported for pytest

pytestmark = needs_prism
NOON = baku(2027, 3, 1, 12, 0)


def _point_at(ctx: AppContext, server: Prism) -> None:
    ctx.settings.twilio_api_base_url = server.base_url
    ctx.gateway = None


def _enrol(ctx: AppContext, campaign_id: int, number: str = PERSON, now=NOON) -> None:  # type: ignore[no-untyped-def]
    with ctx.sessions.begin() as session:
        assert opt_in(
            session,
            ctx,
            campaign_id=campaign_id,
            number=number,
            language="ru",
            channel="sms",
            now=now,
        ).enrolled


def test_the_first_message_reaches_prism_as_a_spec_valid_request(
    ctx: AppContext, prism: Prism
) -> None:
    _point_at(ctx, prism)
    ctx.clock = Clock(NOON)
    _enrol(ctx, make_campaign(ctx))
    mark = prism.mark()
    assert dispatch(ctx).sent == 1
    log = prism.since(mark)
    assert message_creates(log) == 1
    assert passed_validation(log) == 1 and failed_validation(log) == 0
    first = outbox(ctx)[0]
    assert first.status == OutboxStatus.QUEUED
    assert first.message_sid and first.message_sid.startswith("SM")


def test_prism_rejects_a_request_that_breaks_twilios_spec(ctx: AppContext, prism: Prism) -> None:
    _point_at(ctx, prism)
    gateway = get_gateway(ctx)
    mark = prism.mark()
    with pytest.raises(GatewayError) as info:
        gateway.send_sms(to=PERSON, from_=CAMPAIGN_NUMBER, body="x", status_callback="not a url")
    assert info.value.status == 422 and info.value.permanent
    assert failed_validation(prism.since(mark)) == 1


def test_prism_refuses_requests_without_credentials(prism: Prism) -> None:
    gateway = TwilioGateway(
        account_sid="AC" + "0" * 32, auth_token="", api_base_url=prism.base_url, rate_per_second=0
    )
    with pytest.raises(GatewayError) as info:
        gateway.send_sms(to=PERSON, from_=CAMPAIGN_NUMBER, body="x", status_callback=None)
    assert info.value.status == 401


def test_stop_cancels_the_rest_and_prism_sees_nothing_more(ctx: AppContext, prism: Prism) -> None:
    _point_at(ctx, prism)
    clock = Clock(NOON)
    ctx.clock = clock
    _enrol(ctx, make_campaign(ctx))
    mark = prism.mark()
    dispatch(ctx)
    with ctx.sessions.begin() as session:
        handle_sms_command(
            session,
            ctx,
            sender=Address.parse(PERSON),
            to_number=CAMPAIGN_NUMBER,
            word="stop",
            now=clock.now,
        )
    clock.now += timedelta(days=30)
    dispatch(ctx)
    assert message_creates(prism.since(mark)) == 1
    assert [r.status for r in outbox(ctx)] == [OutboxStatus.QUEUED] + [OutboxStatus.CANCELLED] * 2


def test_a_message_due_at_23_00_baku_reaches_prism_at_08_00(ctx: AppContext, prism: Prism) -> None:
    _point_at(ctx, prism)
    clock = Clock(baku(2027, 3, 1, 23, 0))
    ctx.clock = clock
    _enrol(ctx, make_campaign(ctx), now=clock.now)  # opted in at 23:00: first message due now
    mark = prism.mark()
    dispatch(ctx)
    assert message_creates(prism.since(mark)) == 0
    assert outbox(ctx)[0].due_at == baku(2027, 3, 2, 8, 0)
    clock.now = baku(2027, 3, 2, 8, 0)
    dispatch(ctx)
    log = prism.since(mark)
    assert message_creates(log) == 1 and passed_validation(log) == 1


def test_a_restart_sends_everything_that_fell_due_to_prism(ctx: AppContext, prism: Prism) -> None:
    _point_at(ctx, prism)
    clock = Clock(NOON)
    ctx.clock = clock
    campaign_id = make_campaign(ctx)
    people = ["+994501234561", "+994501234562", "+994501234563"]
    for number in people:
        _enrol(ctx, campaign_id, number=number)
    clock.now = baku(2027, 3, 9, 9, 0)  # down for a week: 9 messages are due
    restarted = AppContext(
        settings=ctx.settings,
        engine=ctx.engine,
        sessions=make_session_factory(ctx.engine),
        clock=clock,
    )
    mark = prism.mark()
    assert dispatch(restarted).sent == 9
    log = prism.since(mark)
    assert message_creates(log) == 9 and passed_validation(log) == 9
    assert {r.status for r in outbox(ctx)} == {OutboxStatus.QUEUED}
