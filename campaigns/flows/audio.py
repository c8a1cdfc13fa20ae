"""Recorded prompts: check an upload is really WAV or MP3 within the limits, normalise it to
8 kHz mono 16-bit WAV with SoX (Debian's `sox` + `libsox-fmt-mp3`), store it in the media
folder under a random token and give the flow a new version that plays it.
"""

from __future__ import annotations

import hashlib
import secrets
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from campaigns.flows.models import FlowAudio, FlowVersion, StoredFlow
from campaigns.flows.service import checked, get_flow, latest, save_version
from ivr_flows.prompts import slot_key, slots
from outreach.core.settings import Settings

SOX_SECONDS = 30
RATE = 8000
MIN_SECONDS = 0.2
TOKEN_BYTES = 24


class AudioRefused(ValueError):
    """An upload that is not acceptable audio; the message says why, for the manager."""


@dataclass(frozen=True)
class Stored:
    token: str
    duration_ms: int
    version: int


def sniff(data: bytes) -> str:
    """Returns "wav" or "mp3" from the file's first bytes (never from its name), else refuses."""
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav"
    if data[:3] == b"ID3" or (len(data) >= 2 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0):
        return "mp3"
    raise AudioRefused("this file is not a WAV or MP3 recording (its content is not audio)")


def media_root(settings: Settings) -> Path:
    root = Path(settings.media_dir).expanduser().resolve()
    root.mkdir(parents=True, exist_ok=True)
    return root


def media_file(settings: Settings, token: str) -> Path:
    return media_root(settings) / f"{token}.wav"


def _sox(*args: str) -> str:
    sox = shutil.which(args[0])
    if sox is None:
        raise RuntimeError(
            f"{args[0]} is not installed (Debian: apt-get install sox libsox-fmt-mp3)"
        )
    done = subprocess.run(  # noqa: S603 - fixed program, our own temp paths
        [sox, *args[1:]], capture_output=True, text=True, timeout=SOX_SECONDS, check=False
    )
    if done.returncode != 0:
        raise AudioRefused("this file could not be read as audio (it may be damaged)")
    return done.stdout.strip()


def normalise(data: bytes, settings: Settings) -> tuple[str, bytes, int]:
    """Checks and converts an upload; returns (token, the 8 kHz mono WAV, duration in ms)."""
    if len(data) > settings.audio_max_bytes:
        limit = settings.audio_max_bytes / (1024 * 1024)
        raise AudioRefused(f"the recording is larger than {limit:g} MB")
    kind = sniff(data)
    with tempfile.TemporaryDirectory(prefix="outreach-audio-") as tmp:
        source, target = Path(tmp) / f"upload.{kind}", Path(tmp) / "out.wav"
        source.write_bytes(data)
        try:
            seconds = float(_sox("soxi", "-D", str(source)) or 0)
        except ValueError as exc:
            raise AudioRefused("this file could not be read as audio") from exc
        if seconds < MIN_SECONDS:
            raise AudioRefused("the recording is empty or shorter than 0.2 seconds")
        if seconds > settings.audio_max_seconds:
            raise AudioRefused(
                f"the recording lasts {seconds:.0f} s; at most {settings.audio_max_seconds:g} s"
            )
        _sox("sox", str(source), "-r", str(RATE), "-c", "1", "-b", "16", "-e", "signed-integer",
             str(target), "gain", "-n", "-1")  # fmt: skip
        out = target.read_bytes()
    return secrets.token_urlsafe(TOKEN_BYTES), out, round(seconds * 1000)


def head_with_slot(session: Session, key: str, slot: str) -> tuple[StoredFlow, FlowVersion]:
    """The flow and its newest version, which must have the prompt slot; else refuses."""
    stored = get_flow(session, key)
    head: FlowVersion | None = latest(session, stored)
    if head is None:
        raise AudioRefused("save the flow before adding recordings")
    if slot not in {s.key for s in slots(checked(head.source))}:
        raise AudioRefused(f"the flow has no prompt {slot!r}")
    return stored, head


def store_file(settings: Settings, token: str, wav: bytes) -> None:
    media_file(settings, token).write_bytes(wav)


def attach_stored(
    session: Session, *, key: str, slot: str, token: str, wav: bytes, duration_ms: int,
    user: str, note: str = "",
) -> Stored:  # fmt: skip
    """Records an already normalised file (in the media folder) and saves a version playing
    it for the slot."""
    stored, head = head_with_slot(session, key, slot)
    session.add(
        FlowAudio(
            flow_id=stored.id,
            token=token,
            slot=slot,
            bytes=len(wav),
            duration_ms=duration_ms,
            sha256=hashlib.sha256(wav).hexdigest(),
            created_by=user[:64],
        )
    )
    audio = {**(head.audio or {}), slot: token}
    row = save_version(
        session, source=head.source, user=user, key=key, audio=audio,
        note=note or f"recording {slot}",
    )  # fmt: skip
    return Stored(token, duration_ms, row.number)


def attach_recording(
    session: Session, *, key: str, slot: str, data: bytes, user: str, settings: Settings
) -> Stored:
    """Stores a recording for one prompt slot and saves a version that plays it."""
    head_with_slot(session, key, slot)
    token, wav, duration_ms = normalise(data, settings)
    store_file(settings, token, wav)
    return attach_stored(
        session, key=key, slot=slot, token=token, wav=wav, duration_ms=duration_ms, user=user
    )


__all__ = [
    "AudioRefused",
    "attach_recording",
    "attach_stored",
    "head_with_slot",
    "media_file",
    "normalise",
    "slot_key",
    "sniff",
]
