"""Voice domain code works inside its caller's transaction and never rolls it back."""

from __future__ import annotations

from sqlalchemy import select

from campaigns.registry.enums import Channel, InteractionKind
from campaigns.registry.models import Interaction, RegistrySetting
from campaigns.voice.callbacks import record_missed_call
from campaigns.voice.lines import find_line
from campaigns.voice.models import CallDirection
from campaigns.voice.service import start_call
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


def _marker(ctx: AppContext) -> object:
    with ctx.sessions() as session:
        return session.scalar(select(RegistrySetting.value).where(RegistrySetting.key == "marker"))


def test_a_call_entry_that_loses_a_race_keeps_the_callers_earlier_work(
    loaded: AppContext,
) -> None:
    _recorded_first(loaded, RADIO)
    with loaded.sessions() as session:
        session.add(RegistrySetting(key="marker", value={"kept": True}))
        line = find_line(session, loaded, RADIO)
        assert line is not None
        start_call(
            session,
            loaded,
            line=line,
            call_sid=SID,
            caller=CALLER,
            direction=CallDirection.INBOUND,
            now=OPEN,
            render=renderer(loaded.settings.public_url),
        )
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
