"""Renders the demo flows' Azerbaijani prompts to small telephone WAVs with espeak-ng.

    apt-get install -y espeak-ng
    python campaigns/demo/audio/make_audio.py            # every prompt
    python campaigns/demo/audio/make_audio.py no_input   # only az/no_input.wav

Each `{audio: /audio/az/NAME.wav, text: ...}` prompt of campaigns/demo/flows/*.yaml becomes
campaigns/demo/audio/az/NAME.wav: 8 kHz mono mu-law (what phone lines carry; ~8 KB per second).
espeak-ng's Azerbaijani voice is synthetic and robotic: a stand-in until a speaker records them.
"""

from __future__ import annotations

import audioop  # deprecated in 3.11, removed in 3.13: fine for a one-off demo tool
import io
import shutil
import struct
import subprocess
import sys
import wave
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
FLOWS = HERE.parent / "flows"
RATE = 8000


def prompts() -> dict[str, str]:
    """Returns {relative wav path: Azerbaijani text} from every demo flow."""
    found: dict[str, str] = {}

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            audio = value.get("audio")
            if isinstance(audio, str) and audio.startswith("/audio/") and value.get("text"):
                found[audio.removeprefix("/audio/")] = str(value["text"])
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for path in sorted(FLOWS.glob("*.yaml")):
        walk(yaml.safe_load(path.read_text(encoding="utf-8")))
    return found


def mulaw_wav(pcm16: bytes, source_rate: int) -> bytes:
    """Converts 16-bit mono PCM to an 8 kHz mu-law WAV file."""
    resampled, _ = audioop.ratecv(pcm16, 2, 1, source_rate, RATE, None)
    data = audioop.lin2ulaw(resampled, 2)
    fmt = struct.pack("<HHIIHHH", 7, 1, RATE, RATE, 1, 8, 0)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"fact" + struct.pack("<II", 4, len(data))
    body += b"data" + struct.pack("<I", len(data)) + data + (b"\0" if len(data) % 2 else b"")
    return b"RIFF" + struct.pack("<I", len(body)) + body


def render(text: str) -> bytes:
    spoken = subprocess.run(  # noqa: S603 - fixed program, text passed as one argument
        ["espeak-ng", "-v", "az", "-s", "150", "--stdout", text],  # noqa: S607
        capture_output=True,
        check=True,
    ).stdout
    with wave.open(io.BytesIO(spoken)) as source:
        pcm = source.readframes(source.getnframes())
        return mulaw_wav(pcm, source.getframerate())


def main(names: list[str]) -> int:
    """Renders every prompt, or only those whose file name (without .wav) is in `names`."""
    if shutil.which("espeak-ng") is None:
        print("espeak-ng is not installed (apt-get install -y espeak-ng)", file=sys.stderr)
        return 1
    total = 0
    for relative, text in sorted(prompts().items()):
        if names and Path(relative).stem not in names:
            continue
        target = HERE / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(render(text))
        total += target.stat().st_size
        print(f"{relative}: {target.stat().st_size // 1024} KB")
    print(f"total {total // 1024} KB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
