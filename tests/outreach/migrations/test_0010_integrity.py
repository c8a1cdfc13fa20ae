"""Migration 0010 on a database with data: twins of running enrolments end, nothing else moves."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Connection, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from campaigns.followups.models import Enrollment, EnrollmentStatus, OutboxMessage, OutboxStatus
from campaigns.registry.enums import Medium
from campaigns.registry.models import Campaign
from campaigns.voice.models import Call, CallEvent, CallEventKind
from outreach.core.db import upgrade_schema
from tests.support.database import insert_at_revision, upgrade_to
from tests.support.voice import OPEN


def _enrollment(campaign_id: int, number_enc: str) -> Enrollment:
    return Enrollment(
        campaign_id=campaign_id,
        series_id="info",
        contact_id="c" * 64,
        channel="sms",
        language="en",
        sender="+994502000101",
        timezone="Asia/Baku",
        number_enc=number_enc,
        created_at=OPEN,
    )


def _seed(conn: Connection) -> None:
    campaign = Campaign(
        code="C",
        name="C",
        medium=Medium.FLYER,
        languages=["en"],
        start_date=date(2027, 1, 1),
        end_date=date(2027, 12, 31),
    )
    insert_at_revision(conn, campaign)
    call = Call(
        call_sid="CA1",
        flow_id="f",
        flow_file="f.yaml",
        number="+994125550101",
        contact_id="c" * 64,
        attribution="none",
    )
    insert_at_revision(conn, call)
    insert_at_revision(
        conn, CallEvent(call_id=call.id, position=0, node="menu", kind=CallEventKind.ENTERED)
    )
    # Two YES texts at once enrolled twice before 0010: each has its pending messages.
    for sealed in ("first", "twin"):
        enrollment = _enrollment(campaign.id, sealed)
        insert_at_revision(conn, enrollment)
        for step in range(3):
            insert_at_revision(
                conn,
                OutboxMessage(
                    enrollment_id=enrollment.id,
                    campaign_id=campaign.id,
                    contact_id="c" * 64,
                    step=step,
                    due_at=OPEN,
                ),
            )


def test_upgrade_ends_twin_enrolments_and_keeps_call_events(database_url: str) -> None:
    engine = upgrade_to(database_url, "0009_rollup_people")
    with engine.begin() as conn:
        _seed(conn)
    upgrade_schema(engine)
    with Session(engine) as session:
        # SQLite rebuilt `calls` to widen call_sid: its events must survive that.
        assert session.scalar(select(func.count()).select_from(CallEvent)) == 1
        first, twin = session.scalars(select(Enrollment).order_by(Enrollment.id)).all()
        assert (first.status, first.number_enc) == (EnrollmentStatus.ACTIVE, "first")
        assert (twin.status, twin.number_enc) == (EnrollmentStatus.CANCELLED, None)
        statuses = session.execute(
            select(OutboxMessage.enrollment_id, OutboxMessage.status).order_by(OutboxMessage.id)
        ).all()
        assert [s for e, s in statuses if e == first.id] == [OutboxStatus.PENDING] * 3
        assert [s for e, s in statuses if e == twin.id] == [OutboxStatus.CANCELLED] * 3
        campaign_id = first.campaign_id
    with pytest.raises(IntegrityError), Session(engine) as session, session.begin():
        session.add(_enrollment(campaign_id, "another"))
    engine.dispose()
