"""Migration 0018 on a database with calls: each call's event count is filled in."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.voice.models import Call, CallEvent, CallEventKind
from outreach.core.db import upgrade_schema
from tests.support.database import insert_at_revision, upgrade_to


def test_upgrade_counts_the_events_of_existing_calls(database_url: str) -> None:
    engine = upgrade_to(database_url, "0017_callback_claims")
    with engine.begin() as conn:
        for sid, count in (("CA1", 3), ("CA2", 0), ("CA3", 1)):
            call = Call(
                call_sid=sid,
                flow_id="f",
                flow_file="f.yaml",
                number="+994125550101",
                contact_id="c" * 64,
                attribution="none",
            )
            insert_at_revision(conn, call)
            for position in range(count):
                insert_at_revision(
                    conn,
                    CallEvent(
                        call_id=call.id, position=position, node="m", kind=CallEventKind.ENTERED
                    ),
                )
    upgrade_schema(engine)
    with Session(engine) as session:
        counts = {sid: n for sid, n in session.execute(select(Call.call_sid, Call.events))}
    assert counts == {"CA1": 3, "CA2": 0, "CA3": 1}
    engine.dispose()
