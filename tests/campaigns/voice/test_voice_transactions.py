"""Voice domain code works inside its caller's transaction and never rolls it back."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from campaigns.registry.enums import Channel, InteractionKind
from campaigns.registry.models import Interaction, RegistrySetting
from campaigns.voice import service
from campaigns.voice.callbacks import record_missed_call
from campaigns.voice.lines import find_line
from campaigns.voice.models import Call, CallDirection
from campaigns.voice.service import StaleStep, start_call, step_call
from outreach.core.context import AppContext
from tests.support.voice import CALLER, OPEN, RADIO, TV
from webhooks.voice_twiml import renderer

SID = "CA" + "7" * 32


def _recorded_first(ctx: AppContext, number: str) -> None:
    """Another request recorded this CallSid first (the race the insert loses)."""
    with ctx.sessions.begin() as session:
        session.add(
            Interaction(
                channel=Channel.VOICE,
                kind=InteractionKind.CALL,
                number=number,
                contact_id=ctx.contact_id(CALLER),
                created_at=OPEN,
                external_sid=SID,
            )
        )


def _start(session: Session, ctx: AppContext) -> str | None:
    """Starts call SID to the radio spot, as its entry webhook would."""
    line = find_line(session, ctx, RADIO)
    assert line is not None
    return start_call(
        session,
        ctx,
        line=line,
        call_sid=SID,
        caller=CALLER,
        direction=CallDirection.INBOUND,
        now=OPEN,
        render=renderer(ctx.settings.public_url),
    )


def _marker(ctx: AppContext) -> object:
    with ctx.sessions() as session:
        return session.scalar(select(RegistrySetting.value).where(RegistrySetting.key == "marker"))


def test_a_call_entry_that_loses_a_race_keeps_the_callers_earlier_work(
    loaded: AppContext,
) -> None:
    _recorded_first(loaded, RADIO)
    with loaded.sessions() as session:
        session.add(RegistrySetting(key="marker", value={"kept": True}))
        _start(session, loaded)
        session.commit()
    assert _marker(loaded) == {"kept": True}


def test_a_missed_call_that_loses_a_race_keeps_the_callers_earlier_work(
    loaded: AppContext,
) -> None:
    _recorded_first(loaded, TV)
    with loaded.sessions() as session:
        session.add(RegistrySetting(key="marker", value={"kept": True}))
        line = find_line(session, loaded, TV)
        assert line is not None and line.missed_call_callback
        assert (
            record_missed_call(session, loaded, line=line, call_sid=SID, caller=CALLER, now=OPEN)
            is None
        )
        session.commit()
    assert _marker(loaded) == {"kept": True}


def test_a_step_whose_call_moved_on_under_it_is_not_applied(
    loaded: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The step's one UPDATE moves `seq` on only from the step's number: if another copy moved
    the call on after this one read it (where no lock kept it out), this copy fails whole."""
    render = renderer(loaded.settings.public_url)
    with loaded.sessions() as session:
        first = _start(session, loaded)
        session.commit()
    assert first
    calls = Call.__table__
    flow_of = service._call_flow

    def flow_then_a_copy_moves_on(session: Session, ctx: AppContext, call: Call) -> object:
        session.connection().execute(update(calls).where(calls.c.id == call.id).values(seq=2))
        return flow_of(session, ctx, call)

    monkeypatch.setattr(service, "_call_flow", flow_then_a_copy_moves_on)
    with loaded.sessions() as session:
        with pytest.raises(StaleStep):
            step_call(
                session,
                loaded,
                call_sid=SID,
                seq=1,
                digits="3",
                event_name="",
                dial_status="",
                caller=CALLER,
                now=OPEN,
                render=render,
            )
        session.rollback()
    with loaded.sessions() as session:
        call = session.scalar(select(Call).where(Call.call_sid == SID))
        assert call is not None and call.seq == 1 and call.language is None and call.events == 1
        assert call.last_twiml == first
