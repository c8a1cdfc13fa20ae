"""Helpers for recording prompts by phone: the studio number, Twilio's recording media."""

from __future__ import annotations

import base64
import secrets
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from campaigns.flows import phone
from outreach.core.context import AppContext
from tests.support.fake_twilio_server import FakeTwilioServer

STUDIO = "+994125550199"
ACCOUNT = "AC" + "0" * 32


def recording_sid() -> str:
    return "RE" + secrets.token_hex(16)


def phone_tone(path: Path, seconds: float = 1.0) -> bytes:
    """What Twilio's Recordings API gives: an 8 kHz mono 16-bit WAV (made by SoX)."""
    subprocess.run(
        ["sox", "-n", "-r", "8000", "-c", "1", "-b", "16", str(path), "synth", str(seconds),
         "sine", "330"],
        check=True,
    )  # fmt: skip
    return path.read_bytes()


@contextmanager
def twilio_media(ctx: AppContext) -> Iterator[FakeTwilioServer]:
    """A fake Twilio REST API serving recordings (with basic auth); the settings point at it."""
    server = FakeTwilioServer().start()
    pair = f"{ctx.settings.twilio_account_sid}:{ctx.settings.twilio_auth_token}".encode()
    server.auth = "Basic " + base64.b64encode(pair).decode()
    ctx.settings = ctx.settings.model_copy(
        update={"twilio_api_base_url": server.base_url, "studio_number": STUDIO}
    )
    try:
        yield server
    finally:
        server.stop()


def issue(ctx: AppContext, slot: str, user: str = "manager") -> str:
    with ctx.sessions.begin() as session:
        return phone.issue_code(
            session, key="hotline", slot=slot, user=user, hash_key=ctx.settings.hash_key,
            now=ctx.clock(),
        ).code  # fmt: skip


def callback_form(call_sid: str, recording: str, status: str = "completed") -> dict[str, str]:
    """Twilio's recording status callback (it carries no caller number)."""
    return {
        "AccountSid": ACCOUNT,
        "CallSid": call_sid,
        "RecordingSid": recording,
        "RecordingUrl": f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Recordings/{recording}",
        "RecordingStatus": status,
        "RecordingDuration": "1",
        "RecordingChannels": "1",
        "RecordingSource": "RecordVerb",
    }
