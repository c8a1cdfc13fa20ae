"""POST /twilio/sms/status: signed, idempotent, never backwards, never a 500."""

from __future__ import annotations

import threading
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import event as orm_event
from sqlalchemy import select

from campaigns.followups.dispatcher import Dispatcher
from campaigns.followups.models import (
    Enrollment,
    EnrollmentStatus,
    OutboxMessage,
    OutboxStatus,
    Suppression,
)
from campaigns.followups.outbox import claim_batch
from campaigns.followups.service import opt_in
from outreach.core.context import AppContext
from tests.support.app import signed_post
from tests.support.followups import (
    PERSON,
    Clock,
    baku,
    dispatch,
    fake_gateway,
    make_campaign,
    outbox,
)

PATH = "/twilio/sms/status"
NOON = baku(2027, 3, 1, 12, 0)


def _sent_sid(ctx: AppContext) -> str:
    ctx.clock = Clock(NOON)
    fake_gateway(ctx)
    campaign_id = make_campaign(ctx)
    with ctx.sessions.begin() as session:
        opt_in(
            session,
            ctx,
            campaign_id=campaign_id,
            number=PERSON,
            language="en",
            channel="sms",
            now=NOON,
        )
    dispatch(ctx)
    sid = outbox(ctx)[0].message_sid
    assert sid
    return sid


def _claimed_row(ctx: AppContext) -> int:
    """Opts PERSON in and claims the first message as the dispatcher does (token "t"), not
    yet sent; returns its row id."""
    ctx.clock = Clock(NOON)
    fake_gateway(ctx)
    campaign_id = make_campaign(ctx)
    with ctx.sessions.begin() as session:
        opt_in(
            session,
            ctx,
            campaign_id=campaign_id,
            number=PERSON,
            language="en",
            channel="sms",
            now=NOON,
        )
        claim_batch(
            session,
            now=NOON,
            token="t",
            per_sender=1,
            lease=timedelta(minutes=5),
            skip_locked=not ctx.settings.is_sqlite,
        )
    return outbox(ctx)[0].id


def post_status(client: TestClient, sid: str, status: str, code: str | None = None) -> int:
    form = {"MessageSid": sid, "MessageStatus": status, "AccountSid": "AC" + "0" * 32}
    if code is not None:
        form["ErrorCode"] = code
    return int(signed_post(client, PATH, form).status_code)


def test_statuses_move_forward_to_delivered(client: TestClient, ctx: AppContext) -> None:
    sid = _sent_sid(ctx)
    assert post_status(client, sid, "sent") == 200
    assert outbox(ctx)[0].status == OutboxStatus.SENT
    assert post_status(client, sid, "delivered") == 200
    assert outbox(ctx)[0].status == OutboxStatus.DELIVERED


def test_a_late_sent_never_moves_a_delivered_message_back(
    client: TestClient, ctx: AppContext
) -> None:
    sid = _sent_sid(ctx)
    assert post_status(client, sid, "delivered") == 200
    assert post_status(client, sid, "sent") == 200
    assert post_status(client, sid, "queued") == 200
    assert post_status(client, sid, "failed", "30003") == 200
    row = outbox(ctx)[0]
    assert row.status == OutboxStatus.DELIVERED and row.error_code is None


def test_repeated_callbacks_change_nothing_the_second_time(
    client: TestClient, ctx: AppContext
) -> None:
    sid = _sent_sid(ctx)
    for _ in range(3):
        assert post_status(client, sid, "undelivered", "30003") == 200
    row = outbox(ctx)[0]
    assert row.status == OutboxStatus.UNDELIVERED and row.error_code == 30003


def test_an_unknown_sid_is_acknowledged_and_nothing_happens(
    client: TestClient, ctx: AppContext
) -> None:
    _sent_sid(ctx)
    before = [(r.status, r.error_code) for r in outbox(ctx)]
    assert post_status(client, "SM" + "f" * 32, "delivered") == 200
    assert [(r.status, r.error_code) for r in outbox(ctx)] == before


def test_undelivered_with_21610_suppresses_the_contact(client: TestClient, ctx: AppContext) -> None:
    sid = _sent_sid(ctx)
    assert post_status(client, sid, "undelivered", "21610") == 200
    with ctx.sessions() as session:
        assert session.get(Suppression, ctx.contact_id(PERSON)) is not None
    assert [r.status for r in outbox(ctx)][1:] == [OutboxStatus.CANCELLED] * 2


def test_failed_with_a_landline_code_ends_the_series(client: TestClient, ctx: AppContext) -> None:
    sid = _sent_sid(ctx)
    assert post_status(client, sid, "failed", "30006") == 200
    with ctx.sessions() as session:
        enrollment = session.scalars(select(Enrollment)).one()
        assert enrollment.status == EnrollmentStatus.FAILED and enrollment.number_enc is None


def test_bad_input_gets_a_4xx_never_a_500(client: TestClient, ctx: AppContext) -> None:
    sid = _sent_sid(ctx)
    assert signed_post(client, PATH, {"MessageStatus": "sent"}).status_code == 400
    assert post_status(client, sid, "no-such-status") == 200
    assert post_status(client, sid, "delivered", "not-a-number") == 200
    assert outbox(ctx)[0].status == OutboxStatus.DELIVERED


def test_unsigned_callbacks_are_refused(client: TestClient, ctx: AppContext) -> None:
    sid = _sent_sid(ctx)
    response = client.post(PATH, data={"MessageSid": sid, "MessageStatus": "failed"})
    assert response.status_code == 403
    assert outbox(ctx)[0].status == OutboxStatus.QUEUED


def test_a_callback_that_beats_the_recorded_sid_finds_its_row_by_the_signed_url(
    client: TestClient, ctx: AppContext
) -> None:
    row_id = _claimed_row(ctx)
    sid = "SM" + "c" * 32
    form = {"MessageSid": sid, "MessageStatus": "sent"}
    path = f"{PATH}?o={row_id}"
    assert signed_post(client, path, form).status_code == 200
    assert (outbox(ctx)[0].status, outbox(ctx)[0].message_sid) == (OutboxStatus.SENT, sid)
    Dispatcher(ctx)._record_sent(row_id, "t", sid, "queued")  # the dispatcher catches up
    assert outbox(ctx)[0].status == OutboxStatus.SENT
    # A forged pairing (a sid the row was not sent as) changes nothing.
    other = {"MessageSid": "SM" + "d" * 32, "MessageStatus": "failed", "ErrorCode": "21610"}
    assert signed_post(client, path, other).status_code == 200
    assert outbox(ctx)[0].status == OutboxStatus.SENT


def test_a_delivery_callback_during_the_dispatchers_record_of_its_send_is_never_lost(
    client: TestClient, ctx: AppContext
) -> None:
    """Kannel's DLR (or Twilio's callback) can land while the dispatcher is recording the send:
    the two transactions read the same claimed row, and the later write must not undo the other."""
    row_id = _claimed_row(ctx)
    sid = "SM" + "e" * 32
    form = {"MessageSid": sid, "MessageStatus": "delivered"}
    codes: list[int] = []
    callback = threading.Thread(
        target=lambda: codes.append(signed_post(client, f"{PATH}?o={row_id}", form).status_code)
    )
    recorder = threading.get_ident()

    def deliver_meanwhile(target: OutboxMessage, _context: object) -> None:
        # The dispatcher has just read the claimed row: the callback lands now.
        if threading.get_ident() == recorder and target.id == row_id and not callback.is_alive():
            callback.start()
            callback.join(timeout=2)  # it may wait for our lock; then it goes on after us

    orm_event.listen(OutboxMessage, "load", deliver_meanwhile)
    try:
        Dispatcher(ctx)._record_sent(row_id, "t", sid, "queued")
    finally:
        orm_event.remove(OutboxMessage, "load", deliver_meanwhile)
    callback.join(timeout=30)
    assert codes == [200]
    row = outbox(ctx)[0]
    assert (row.status, row.message_sid) == (OutboxStatus.DELIVERED, sid)
