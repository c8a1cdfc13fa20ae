"""Recording a prompt by phone: one-time codes, the signed studio call, approval, bad codes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from campaigns.flows import phone, service
from campaigns.flows.imports import import_file
from campaigns.flows.models import PendingRecording, RecordingCode
from outreach.core.context import AppContext
from outreach.web.auth.models import Role
from tests.support.app import PUBLIC_URL, signed_post
from tests.support.fake_twilio_server import FakeTwilioServer
from tests.support.flows import DEMO_FLOWS
from tests.support.privacy_scan import assert_nowhere, database_text, variants
from tests.support.reports import csrf_of, login, make_user, web  # noqa: F401
from tests.support.studio import (
    STUDIO,
    callback_form,
    issue,
    phone_tone,
    recording_sid,
    twilio_media,
)
from tests.support.voice import CALLER, HOTLINE, OPEN, Caller, path_of, said, verbs

SLOT = "intro/prompt/az"
WRONG = "Sorry, that code is not valid or has expired."


@pytest.fixture
def studio(loaded: AppContext, tmp_path: Path) -> Iterator[tuple[AppContext, FakeTwilioServer]]:
    loaded.settings = loaded.settings.model_copy(update={"media_dir": str(tmp_path / "media")})
    loaded.clock = lambda: OPEN
    with loaded.sessions.begin() as session:
        import_file(session, DEMO_FLOWS / "hotline.yaml", user="test", settings=loaded.settings)
    make_user(loaded, "manager", Role.MANAGER)
    with twilio_media(loaded) as server:
        yield loaded, server


@pytest.fixture
def manager(studio: object, web: TestClient) -> tuple[TestClient, str]:  # noqa: F811
    assert login(web, "manager").status_code == 303
    page = web.get("/dashboard/flows/hotline")
    assert page.status_code == 200
    return web, csrf_of(page.text)


def _record_verb(twiml: str) -> dict[str, str]:
    found = [v for v in verbs(twiml) if v.tag == "Record"]
    assert found, twiml
    return dict(found[0].attrib)


def test_a_code_is_six_digits_stored_hashed_single_use_and_expires(
    manager: tuple[TestClient, str], studio: tuple[AppContext, FakeTwilioServer]
) -> None:
    client, csrf = manager
    ctx, _ = studio
    answer = client.post(
        "/dashboard/flows/hotline/phone-code", data={"slot": SLOT, "csrf_token": csrf}
    )
    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
    code = re.search(r'id="phone-code">(\d+)<', answer.text)
    assert code and len(code.group(1)) == 6 and STUDIO in answer.text
    with ctx.sessions() as session:
        row = session.scalars(select(RecordingCode)).one()
        assert row.code_hash == phone.keyed(code.group(1), ctx.settings.hash_key)
        assert (row.slot, row.created_by) == (SLOT, "manager")
        assert row.expires_at == OPEN + timedelta(minutes=10)
    assert code.group(1) not in database_text(ctx)

    def claim(call: str, minutes: float = 0) -> phone.Claimed | None:
        with ctx.sessions.begin() as session:
            return phone.claim_code(
                session, code=code.group(1), call_sid=call, caller=CALLER,
                hash_key=ctx.settings.hash_key, now=OPEN + timedelta(minutes=minutes),
            )  # fmt: skip

    assert claim("CA1", minutes=10) is None  # expired
    first = claim("CA1", minutes=9)
    assert first is not None and (first.flow_key, first.slot) == ("hotline", SLOT)
    assert claim("CA1", minutes=9.5) == first  # Twilio retrying the same call
    assert claim("CA2", minutes=9.5) is None  # spent by another call
    forged = client.post("/dashboard/flows/hotline/phone-code", data={"slot": SLOT})
    assert forged.status_code == 403  # no CSRF token
    unknown = client.post(
        "/dashboard/flows/hotline/phone-code", data={"slot": "nope/prompt/az", "csrf_token": csrf}
    )
    assert unknown.status_code == 422


def test_a_signed_call_records_a_prompt_that_a_manager_approves_and_calls_then_hear(
    manager: tuple[TestClient, str],
    studio: tuple[AppContext, FakeTwilioServer],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client, csrf = manager
    ctx, twilio = studio
    code = issue(ctx, SLOT)
    call = Caller(client, STUDIO)
    call.start()
    assert call.action() == "/twilio/voice/studio/code?try=1"
    record = _record_verb(call.press(code))
    assert record["finishOnKey"] == "#" and record["recordingStatusCallbackEvent"] == "completed"
    assert "thank you" in " ".join(said(call.post(path_of(record["action"]), call.form()))).lower()
    sid = recording_sid()
    twilio.recordings[sid] = phone_tone(tmp_path / "call.wav")
    callback = path_of(record["recordingStatusCallback"])
    unsigned = client.post(callback, data=callback_form(call.sid, sid))
    assert unsigned.status_code == 403
    assert signed_post(client, callback, callback_form(call.sid, sid)).status_code == 204
    assert twilio.recording_fetches[sid] == 1
    with ctx.sessions() as session:
        pending = session.scalars(select(PendingRecording)).one()
        assert (pending.status, pending.slot, pending.requested_by) == ("pending", SLOT, "manager")
    assert_nowhere(ctx, caplog, variants(CALLER))
    page = client.get("/dashboard/flows/hotline").text
    assert f'data-pending="{pending.id}"' in page and f"/media/{pending.token}.wav" in page
    approved = client.post(
        f"/dashboard/flows/hotline/pending/{pending.id}/approve", data={"csrf_token": csrf},
        follow_redirects=False,
    )  # fmt: skip
    assert approved.status_code == 303
    again = client.post(
        f"/dashboard/flows/hotline/pending/{pending.id}/reject", data={"csrf_token": csrf}
    )
    assert again.status_code == 409
    with ctx.sessions() as session:
        newest = service.versions(session, "hotline")[0]
        assert newest.number == 2 and newest.audio[SLOT] == pending.token
    client.post("/dashboard/flows/hotline/publish", data={"number": "2", "csrf_token": csrf})
    listener = Caller(client, HOTLINE)
    listener.start()
    listener.press("1")  # Azerbaijani, then the intro
    plays = [v.text for v in verbs(listener.twiml) if v.tag == "Play"]
    assert f"{PUBLIC_URL}/media/{pending.token}.wav" in plays


def test_wrong_expired_and_reused_codes_are_refused_politely_three_tries_a_call(
    studio: tuple[AppContext, FakeTwilioServer], client: TestClient
) -> None:
    ctx, _ = studio
    code = issue(ctx, SLOT)
    call = Caller(client, STUDIO)
    call.start()
    for attempt, digits in ((2, "000000"), (3, "12ab")):
        twiml = call.press(digits if digits != code else "999999")
        assert WRONG in said(twiml) and call.action() == f"/twilio/voice/studio/code?try={attempt}"
    last = "999999" if code != "999999" else "999998"
    final = call.press(last)  # the third try was the last: no more <Gather>
    assert WRONG in said(final) and [v.tag for v in verbs(final)][-1] == "Hangup"
    assert "Gather" not in {v.tag for v in verbs(final)}
    other = Caller(client, STUDIO)
    other.start()
    _record_verb(other.press(code))
    thief = Caller(client, STUDIO, caller="+994507654321")
    thief.start()
    assert WRONG in said(thief.press(code))  # spent by the other call
    late = issue(ctx, "intro/prompt/ru")
    ctx.clock = lambda: OPEN + timedelta(minutes=11)
    caller = Caller(client, STUDIO)
    caller.start()
    assert WRONG in said(caller.press(late))
    forged = signed_post(
        client, "/twilio/voice/studio/recording?code=1", callback_form(thief.sid, recording_sid())
    )
    assert forged.status_code == 204  # not the call that spent code 1: nothing stored
    bad = signed_post(client, "/twilio/voice/studio/recording?code=x", callback_form("CA1", "x"))
    assert bad.status_code == 400
    with ctx.sessions() as session:
        assert session.scalars(select(PendingRecording)).all() == []


def test_a_rejected_recording_is_dropped_and_no_version_plays_it(
    manager: tuple[TestClient, str], studio: tuple[AppContext, FakeTwilioServer], tmp_path: Path
) -> None:
    client, csrf = manager
    ctx, twilio = studio
    call = Caller(client, STUDIO)
    call.start()
    record = _record_verb(call.press(issue(ctx, SLOT)))
    sid = recording_sid()
    twilio.recordings[sid] = phone_tone(tmp_path / "call.wav")
    callback = path_of(record["recordingStatusCallback"])
    assert signed_post(client, callback, callback_form(call.sid, sid)).status_code == 204
    with ctx.sessions() as session:
        pending = session.scalars(select(PendingRecording)).one()
    file = Path(ctx.settings.media_dir) / f"{pending.token}.wav"
    assert file.is_file()
    rejected = client.post(
        f"/dashboard/flows/hotline/pending/{pending.id}/reject", data={"csrf_token": csrf},
        follow_redirects=False,
    )  # fmt: skip
    assert rejected.status_code == 303 and not file.exists()
    with ctx.sessions() as session:
        assert session.get_one(PendingRecording, pending.id).status == "rejected"
        assert [v.number for v in service.versions(session, "hotline")] == [1]
    assert f'data-pending="{pending.id}"' not in client.get("/dashboard/flows/hotline").text
    # A late copy of the callback neither fetches the recording again nor revives it.
    assert signed_post(client, callback, callback_form(call.sid, sid)).status_code == 204
    assert twilio.recording_fetches[sid] == 1


def test_without_a_studio_number_there_is_no_recording_by_phone(
    manager: tuple[TestClient, str], studio: tuple[AppContext, FakeTwilioServer]
) -> None:
    client, csrf = manager
    ctx, _ = studio
    assert "phone-code" in client.get("/dashboard/flows/hotline").text
    ctx.settings = ctx.settings.model_copy(update={"studio_number": ""})
    assert "phone-code" not in client.get("/dashboard/flows/hotline").text
    refused = client.post(
        "/dashboard/flows/hotline/phone-code", data={"slot": SLOT, "csrf_token": csrf}
    )
    assert refused.status_code == 409
    call = Caller(client, STUDIO)
    assert "not in service" in " ".join(said(call.start()))


def test_a_caller_with_ten_wrong_codes_an_hour_is_refused_even_the_right_one(
    studio: tuple[AppContext, FakeTwilioServer], client: TestClient
) -> None:
    ctx, _ = studio
    code = issue(ctx, SLOT)
    wrong = "000000" if code != "000000" else "000001"
    for _ in range(phone.MAX_CALLER_FAILURES // phone.MAX_TRIES + 1):
        call = Caller(client, STUDIO)  # a new call for every three tries
        call.start()
        for _ in range(phone.MAX_TRIES):
            if call.ended and "Gather" not in {v.tag for v in verbs(call.twiml)}:
                break
            call.press(wrong)
    blocked = Caller(client, STUDIO)
    blocked.start()
    assert WRONG in said(blocked.press(code))
    with ctx.sessions() as session:
        assert session.scalars(select(RecordingCode)).one().used_at is None  # not even checked
    other = Caller(client, STUDIO, caller="+994507654321")
    other.start()
    _record_verb(other.press(code))  # another caller is not blocked
    ctx.clock = lambda: OPEN + timedelta(minutes=61)  # the next hour: tries again
    later = Caller(client, STUDIO)
    later.start()
    _record_verb(later.press(issue(ctx, "intro/prompt/ru")))
    assert CALLER not in database_text(ctx) and CALLER[1:] not in database_text(ctx)
