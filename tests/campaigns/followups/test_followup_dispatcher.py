"""The outbox dispatcher: due rows, quiet hours, retries, permanent errors, leases, restarts."""

from __future__ import annotations

import threading
from datetime import timedelta

import requests
from sqlalchemy import select, update

from campaigns.followups.dispatcher import Dispatcher
from campaigns.followups.models import (
    Enrollment,
    EnrollmentStatus,
    OutboxMessage,
    OutboxStatus,
    Suppression,
)
from campaigns.followups.outbox import claim_batch, interleaved
from campaigns.followups.service import handle_sms_command, opt_in
from outreach.core.context import AppContext
from outreach.core.db import make_session_factory
from outreach.core.privacy import Address
from tests.support.fake_twilio import FakeTwilioHttp, error_response
from tests.support.followups import (
    CAMPAIGN_NUMBER,
    PERSON,
    Clock,
    baku,
    dispatch,
    fake_gateway,
    make_campaign,
    outbox,
)

NOON = baku(2027, 3, 1, 12, 0)


def _enrol(ctx: AppContext, campaign_id: int, *, number: str = PERSON, now=NOON) -> None:  # type: ignore[no-untyped-def]
    with ctx.sessions.begin() as session:
        result = opt_in(
            session,
            ctx,
            campaign_id=campaign_id,
            number=number,
            language="az",
            channel="sms",
            now=now,
            source="sms_yes",
        )
        assert result.enrolled


def test_the_first_message_goes_out_at_once_and_the_rest_wait(ctx: AppContext) -> None:
    ctx.clock = Clock(NOON)
    http = fake_gateway(ctx)
    _enrol(ctx, make_campaign(ctx))
    report = dispatch(ctx)
    assert report.sent == 1
    (req,) = http.requests
    assert req.data["To"] == PERSON and req.data["From"] == CAMPAIGN_NUMBER
    assert req.data["Body"] == "MİM: +994125550100"
    rows = outbox(ctx)
    assert req.data["StatusCallback"] == (
        f"https://outreach.example.org/twilio/sms/status?o={rows[0].id}"
    )
    assert rows[0].status == OutboxStatus.QUEUED and rows[0].message_sid
    assert [r.status for r in rows[1:]] == [OutboxStatus.PENDING] * 2


def test_the_whole_series_goes_out_over_days_then_the_number_is_erased(ctx: AppContext) -> None:
    clock = Clock(NOON)
    ctx.clock = clock
    http = fake_gateway(ctx)
    _enrol(ctx, make_campaign(ctx))
    dispatch(ctx)
    clock.now = baku(2027, 3, 3, 10, 0)
    dispatch(ctx)
    with ctx.sessions() as session:
        assert session.scalars(select(Enrollment.number_enc)).one() is not None
    clock.now = baku(2027, 3, 8, 10, 0)
    dispatch(ctx)
    assert [r.data["Body"] for r in http.requests] == [
        "MİM: +994125550100",
        "Yoxlama siyahısı",
        "Alverin əlamətləri",
    ]
    with ctx.sessions() as session:
        enrollment = session.scalars(select(Enrollment)).one()
        assert enrollment.status == EnrollmentStatus.COMPLETED and enrollment.number_enc is None


def test_a_message_due_at_23_00_baku_is_sent_at_08_00(ctx: AppContext) -> None:
    clock = Clock(baku(2027, 3, 1, 20, 0))
    ctx.clock = clock
    http = fake_gateway(ctx)
    _enrol(ctx, make_campaign(ctx), now=clock.now)
    with ctx.sessions.begin() as session:  # as if the first message fell due at 23:00
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.step == 0)
            .values(due_at=baku(2027, 3, 1, 23, 0))
        )
    clock.now = baku(2027, 3, 1, 23, 0)
    report = dispatch(ctx)
    assert report.deferred == 1 and http.requests == []
    first = outbox(ctx)[0]
    assert first.status == OutboxStatus.PENDING and first.due_at == baku(2027, 3, 2, 8, 0)
    assert first.attempts == 0
    clock.now = baku(2027, 3, 2, 7, 59)
    assert dispatch(ctx).claimed == 0
    clock.now = baku(2027, 3, 2, 8, 0)
    assert dispatch(ctx).sent == 1
    assert len(http.requests) == 1


def test_stop_cancels_the_rest_and_nothing_more_is_sent(ctx: AppContext) -> None:
    clock = Clock(NOON)
    ctx.clock = clock
    http = fake_gateway(ctx)
    _enrol(ctx, make_campaign(ctx))
    dispatch(ctx)
    with ctx.sessions.begin() as session:
        handle_sms_command(
            session,
            ctx,
            sender=Address.parse(PERSON),
            to_number=CAMPAIGN_NUMBER,
            word="STOP",
            now=clock.now,
        )
    clock.now = baku(2027, 3, 30, 12, 0)
    dispatch(ctx)
    assert len(http.requests) == 1
    assert [r.status for r in outbox(ctx)][1:] == [OutboxStatus.CANCELLED] * 2


def test_every_send_checks_the_suppression_list(ctx: AppContext) -> None:
    ctx.clock = Clock(NOON)
    http = fake_gateway(ctx)
    _enrol(ctx, make_campaign(ctx))
    with ctx.sessions.begin() as session:  # suppressed behind the service's back
        session.add(Suppression(contact_id=ctx.contact_id(PERSON), source="test", created_at=NOON))
    report = dispatch(ctx)
    assert report.cancelled == 1 and http.requests == []


def test_gateway_down_retries_with_backoff_then_fails_and_loses_nothing(ctx: AppContext) -> None:
    clock = Clock(NOON)
    ctx.clock = clock
    http = fake_gateway(ctx, FakeTwilioHttp(fail_with=requests.ConnectionError("down")))
    _enrol(ctx, make_campaign(ctx))
    base = ctx.settings.send_retry_base_seconds
    for attempt in range(1, ctx.settings.send_max_attempts):
        report = dispatch(ctx)
        assert report.retried == 1
        row = outbox(ctx)[0]
        assert row.status == OutboxStatus.PENDING and row.attempts == attempt
        assert row.due_at == clock.now + timedelta(seconds=base * 2 ** (attempt - 1))
        clock.now = row.due_at
    assert dispatch(ctx).failed == 1
    first = outbox(ctx)[0]
    assert first.status == OutboxStatus.FAILED and first.attempts == ctx.settings.send_max_attempts
    assert len(http.requests) == ctx.settings.send_max_attempts
    # The gateway comes back: the later messages of the series still go out.
    http.fail_with = None
    clock.now = baku(2027, 3, 8, 10, 0)
    assert dispatch(ctx).sent == 2


def test_twilio_21610_suppresses_the_contact_and_cancels_the_rest(ctx: AppContext) -> None:
    ctx.clock = Clock(NOON)
    fake_gateway(ctx, FakeTwilioHttp(script=[error_response(400, 21610)]))
    _enrol(ctx, make_campaign(ctx))
    assert dispatch(ctx).failed == 1
    rows = outbox(ctx)
    assert rows[0].status == OutboxStatus.FAILED and rows[0].error_code == 21610
    assert [r.status for r in rows[1:]] == [OutboxStatus.CANCELLED] * 2
    with ctx.sessions() as session:
        assert session.get(Suppression, ctx.contact_id(PERSON)) is not None
        assert session.scalars(select(Enrollment.number_enc)).one() is None


def test_an_invalid_number_fails_the_series_for_good_and_erases_it(ctx: AppContext) -> None:
    ctx.clock = Clock(NOON)
    fake_gateway(ctx, FakeTwilioHttp(script=[error_response(400, 21211)]))
    _enrol(ctx, make_campaign(ctx))
    dispatch(ctx)
    with ctx.sessions() as session:
        enrollment = session.scalars(select(Enrollment)).one()
        assert enrollment.status == EnrollmentStatus.FAILED and enrollment.number_enc is None
        assert session.get(Suppression, ctx.contact_id(PERSON)) is None
    assert [r.status for r in outbox(ctx)] == [OutboxStatus.FAILED] + [OutboxStatus.CANCELLED] * 2


def test_an_expired_lease_sends_the_in_flight_row_again(ctx: AppContext) -> None:
    clock = Clock(NOON)
    ctx.clock = clock
    http = fake_gateway(ctx)
    _enrol(ctx, make_campaign(ctx))
    with ctx.sessions.begin() as session:  # a worker claimed the row, then died
        claimed = claim_batch(
            session,
            now=clock.now,
            token="dead-worker",
            per_sender=10,
            lease=timedelta(seconds=ctx.settings.dispatch_lease_seconds),
            skip_locked=not ctx.settings.is_sqlite,
        )
        assert claimed == [outbox(ctx)[0].id]
    assert dispatch(ctx).claimed == 0  # still leased: nobody else touches it
    clock.now += timedelta(seconds=ctx.settings.dispatch_lease_seconds + 1)
    report = dispatch(ctx)
    assert report.reclaimed == 1 and report.sent == 1
    assert len(http.requests) == 1
    assert outbox(ctx)[0].attempts == 2


def test_a_restart_sends_what_fell_due_while_the_service_was_down(ctx: AppContext) -> None:
    clock = Clock(NOON)
    ctx.clock = clock
    _enrol(ctx, make_campaign(ctx))
    clock.now = baku(2027, 3, 9, 9, 0)  # a week of downtime: all three are due
    restarted = AppContext(
        settings=ctx.settings,
        engine=ctx.engine,
        sessions=make_session_factory(ctx.engine),
        clock=clock,
    )
    http = fake_gateway(restarted)
    assert dispatch(restarted).sent == 3
    assert len(http.requests) == 3


def test_two_dispatchers_at_once_never_send_the_same_row(ctx: AppContext) -> None:
    ctx.clock = Clock(NOON)
    http = fake_gateway(ctx)
    campaign_id = make_campaign(
        ctx, followups={"series": [{"id": "one", "messages": [{"text": {"az": "x"}}]}]}
    )
    numbers = [f"+99450{n:07d}" for n in range(1000000, 1000120)]
    for number in numbers:
        _enrol(ctx, campaign_id, number=number)
    ctx.settings.send_rate_per_second = 2.5  # small batches, so the workers interleave
    ctx.settings.dispatch_lease_seconds = 10
    errors: list[BaseException] = []

    def work() -> None:
        try:
            Dispatcher(ctx).run_until_idle()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert sorted(r.data["To"] for r in http.requests) == sorted(numbers)
    assert {r.status for r in outbox(ctx)} == {OutboxStatus.QUEUED}


def test_a_batch_takes_senders_in_turn_so_one_rate_limit_never_idles_the_others() -> None:
    rows = [(1, "+A"), (2, "+A"), (3, "+A"), (4, "+B"), (5, "+C"), (6, "+B")]
    assert interleaved(rows) == [1, 4, 5, 2, 6, 3]


def test_a_row_cancelled_by_stop_after_its_claim_is_not_sent(ctx: AppContext) -> None:
    clock = Clock(NOON)
    ctx.clock = clock
    http = fake_gateway(ctx)
    _enrol(ctx, make_campaign(ctx))
    dispatcher = Dispatcher(ctx)
    with ctx.sessions.begin() as session:
        claim_batch(
            session,
            now=clock.now,
            token="t1",
            per_sender=10,
            lease=dispatcher.lease,
            skip_locked=not ctx.settings.is_sqlite,
        )
    with ctx.sessions.begin() as session:  # STOP arrives while the batch waits its turn
        handle_sms_command(
            session,
            ctx,
            sender=Address.parse(PERSON),
            to_number=CAMPAIGN_NUMBER,
            word="stop",
            now=clock.now,
        )
    row_id = outbox(ctx)[0].id
    assert dispatcher._process(row_id, "t1") == "cancelled"
    assert http.requests == []


def test_a_batch_near_the_end_of_its_lease_releases_the_rest_without_using_an_attempt(
    ctx: AppContext,
) -> None:
    clock = Clock(NOON)
    ctx.clock = clock
    http = fake_gateway(ctx)
    _enrol(ctx, make_campaign(ctx))
    dispatcher = Dispatcher(ctx)
    with ctx.sessions.begin() as session:
        claim_batch(
            session,
            now=clock.now,
            token="t1",
            per_sender=10,
            lease=dispatcher.lease,
            skip_locked=not ctx.settings.is_sqlite,
        )
    clock.now += dispatcher.lease - dispatcher.margin  # too late to start a send safely
    assert dispatcher._process(outbox(ctx)[0].id, "t1") == "released"
    row = outbox(ctx)[0]
    assert (row.status, row.attempts, row.claim_token) == (OutboxStatus.PENDING, 0, None)
    assert http.requests == []
    assert dispatch(ctx).sent == 1


def test_quiet_hours_follow_the_campaign_time_zone(ctx: AppContext) -> None:
    from sqlalchemy import update as sql_update

    from campaigns.registry.models import Campaign

    campaign_id = make_campaign(ctx)
    with ctx.sessions.begin() as session:
        session.execute(
            sql_update(Campaign).where(Campaign.id == campaign_id).values(timezone="Europe/Moscow")
        )
    # 22:30 in Baku (quiet there) is 21:30 in Moscow: allowed for this campaign.
    clock = Clock(baku(2027, 3, 1, 22, 30))
    ctx.clock = clock
    http = fake_gateway(ctx)
    _enrol(ctx, campaign_id, now=clock.now)
    assert dispatch(ctx).sent == 1 and len(http.requests) == 1
