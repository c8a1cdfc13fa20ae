"""Effect handlers are listed in one module: a voice opt-in enrols the caller in any process,
with nothing for an entry point (the app, the seed, a CLI command) to register first."""

from __future__ import annotations

import subprocess
import sys

from sqlalchemy import select

from campaigns.followups.models import Enrollment
from outreach.core.context import AppContext
from tests.support.app import ROOT
from tests.support.services import process_env
from tests.support.voice import CALLER, OPEN, RADIO

# A process that never builds the app: it walks a radio call to its SMS opt-in key through
# the voice service alone (3 English, 5 more, 3 by SMS, 1 yes), as the webhooks would.
CALL_TO_THE_OPT_IN = f"""
import datetime

from campaigns.voice.lines import find_line
from campaigns.voice.models import CallDirection
from campaigns.voice.service import start_call, step_call
from outreach.core.context import AppContext
from outreach.core.settings import Settings

ctx = AppContext.from_settings(Settings())
now = {OPEN!r}
render = lambda actions, seq: ""  # the TwiML is not what this test is about
with ctx.sessions.begin() as session:
    line = find_line(session, ctx, {RADIO!r})
    start_call(session, ctx, line=line, call_sid="CA1", caller={CALLER!r},
               direction=CallDirection.INBOUND, now=now, render=render)
for seq, digits in enumerate(["3", "5", "3", "1"], start=1):
    with ctx.sessions.begin() as session:
        step_call(session, ctx, call_sid="CA1", seq=seq, digits=digits, event_name="",
                  dial_status="", caller={CALLER!r}, now=now, render=render)
"""


def test_a_voice_opt_in_enrols_the_caller_with_no_entry_point_setup(loaded: AppContext) -> None:
    env = process_env(loaded.settings)
    done = subprocess.run(
        [sys.executable, "-c", CALL_TO_THE_OPT_IN],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    with loaded.sessions() as session:
        enrolled = list(session.scalars(select(Enrollment.contact_id)))
    assert enrolled == [loaded.contact_id(CALLER)]
