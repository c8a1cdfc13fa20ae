"""Copies of the studio's callbacks and decisions at once: one recording, one version."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from campaigns.flows import phone, service
from campaigns.flows.audio import media_file
from campaigns.flows.imports import import_file
from campaigns.flows.models import FlowAudio, PendingRecording, RecordingCode
from outreach.core.context import AppContext
from outreach.core.db import session_scope
from tests.support.fake_twilio_server import FakeTwilioServer
from tests.support.flows import DEMO_FLOWS
from tests.support.server import post_together, serve
from tests.support.studio import (
    STUDIO,
    callback_form,
    issue,
    phone_tone,
    recording_sid,
    twilio_media,
)
from tests.support.voice import CALLER, OPEN

SLOT = "intro/prompt/az"
COPIES = 20


@pytest.fixture
def studio(
    loaded: AppContext, app: object, tmp_path: Path
) -> Iterator[tuple[AppContext, FakeTwilioServer, httpx.Client]]:
    loaded.settings = loaded.settings.model_copy(update={"media_dir": str(tmp_path / "media")})
    loaded.clock = lambda: OPEN
    with loaded.sessions.begin() as session:
        import_file(session, DEMO_FLOWS / "hotline.yaml", user="test", settings=loaded.settings)
    with twilio_media(loaded) as twilio, serve(app) as client:
        yield loaded, twilio, client


def _claimed(ctx: AppContext, call_sid: str) -> phone.Claimed:
    code = issue(ctx, SLOT)
    with ctx.sessions.begin() as session:
        claimed = phone.claim_code(
            session, code=code, call_sid=call_sid, caller=CALLER,
            hash_key=ctx.settings.hash_key, now=OPEN,
        )  # fmt: skip
    assert claimed is not None
    return claimed


def test_copies_of_one_recording_callback_store_one_pending_recording(
    studio: tuple[AppContext, FakeTwilioServer, httpx.Client], tmp_path: Path
) -> None:
    ctx, twilio, client = studio
    claimed = _claimed(ctx, "CA" + "1" * 32)
    sid = recording_sid()
    twilio.recordings[sid] = phone_tone(tmp_path / "call.wav")
    path = f"/twilio/voice/studio/recording?code={claimed.code_id}"
    answers = post_together(client, path, [callback_form("CA" + "1" * 32, sid)] * COPIES)
    assert [a.status_code for a in answers] == [204] * COPIES
    with ctx.sessions() as session:
        rows = session.scalars(select(PendingRecording)).all()
    assert len(rows) == 1
    # The copies that lost the race removed their files: only the kept one is left.
    assert sorted(p.name for p in Path(ctx.settings.media_dir).glob("*.wav")) == [
        media_file(ctx.settings, rows[0].token).name
    ]


def test_copies_of_one_approval_save_one_version(
    studio: tuple[AppContext, FakeTwilioServer, httpx.Client], tmp_path: Path
) -> None:
    ctx, twilio, client = studio
    claimed = _claimed(ctx, "CA" + "2" * 32)
    sid = recording_sid()
    twilio.recordings[sid] = phone_tone(tmp_path / "call.wav")
    path = f"/twilio/voice/studio/recording?code={claimed.code_id}"
    assert post_together(client, path, [callback_form("CA" + "2" * 32, sid)])[0].status_code == 204
    with ctx.sessions() as session:
        row = session.scalars(select(PendingRecording)).one()
    wav = media_file(ctx.settings, row.token).read_bytes()
    barrier = threading.Barrier(COPIES)

    def approve(_: int) -> bool:
        barrier.wait(timeout=20)
        try:
            with session_scope(ctx.sessions) as session:  # as the approval request does
                flow = service.get_flow(session, "hotline")
                phone.decide(
                    session, flow=flow, pending_id=row.id, approve=True, user="manager", wav=wav
                )
        except phone.AlreadyDecided:
            return False
        return True

    with ThreadPoolExecutor(max_workers=COPIES) as pool:
        applied = list(pool.map(approve, range(COPIES)))
    assert applied.count(True) == 1
    with ctx.sessions() as session:
        assert [v.number for v in service.versions(session, "hotline")] == [2, 1]
        assert session.scalar(select(func.count()).select_from(FlowAudio)) == 1


def test_copies_of_one_code_entry_all_get_the_record_and_spend_the_code_once(
    studio: tuple[AppContext, FakeTwilioServer, httpx.Client],
) -> None:
    ctx, _, client = studio
    code = issue(ctx, SLOT)
    form = {
        "CallSid": "CA" + "3" * 32, "AccountSid": "AC" + "0" * 32, "From": CALLER,
        "To": STUDIO, "Direction": "inbound", "CallStatus": "in-progress", "Digits": code,
    }  # fmt: skip
    answers = post_together(client, "/twilio/voice/studio/code?try=1", [form] * COPIES)
    assert all(a.status_code == 200 and "<Record " in a.text for a in answers)
    other = {**form, "CallSid": "CA" + "4" * 32}
    assert (
        "<Record " not in post_together(client, "/twilio/voice/studio/code?try=1", [other])[0].text
    )
    with ctx.sessions() as session:
        row = session.scalars(select(RecordingCode)).one()
    assert row.used_at is not None and row.call_hash == phone.keyed(
        form["CallSid"], ctx.settings.hash_key
    )
