"""Prompt slots: recordings laid over a flow, and which prompts still lack one."""

from __future__ import annotations

from ivr_flows.loader import check_text
from ivr_flows.model import Flow
from ivr_flows.prompts import missing_recordings, slots, with_audio
from tests.support.flows import DEMO_FLOWS


def starter() -> Flow:
    text = (DEMO_FLOWS / "hotline.yaml").read_text(encoding="utf-8")
    text = text.replace("{audio: /audio/az/goodbye.wav, text:", "{text:")
    flow, issues = check_text(text)
    assert flow is not None and not issues
    return flow


def test_a_recording_replaces_only_its_own_slot() -> None:
    flow = with_audio(starter(), {"goodbye/prompt/az": "https://x.example/media/t.wav"})
    goodbye = flow.nodes["goodbye"].prompt
    assert goodbye["az"].audio == "https://x.example/media/t.wav"
    assert goodbye["az"].text == "Zənginiz üçün təşəkkür edirik. Sağ olun!"  # the fallback
    assert goodbye["ru"].audio is None and flow.nodes["intro"].prompt["az"].audio == (
        "/audio/az/intro.wav"
    )


def test_only_azerbaijani_prompts_without_audio_are_missing_by_default() -> None:
    flow = starter()
    assert missing_recordings(flow, {}) == {"goodbye": ["prompt/az"]}
    assert missing_recordings(flow, {"goodbye/prompt/az": "token"}) == {}
    everything = missing_recordings(flow, {}, frozenset({"ru"}))
    assert "prompt/ru" in everything["goodbye"] and "invalid/ru" in everything["(flow)"]


def test_every_declared_language_of_every_prompt_is_a_slot() -> None:
    keys = {s.key for s in slots(starter())}
    assert {"(flow)/invalid/az", "consultant/after_hours/en", "sms_optin/confirm/ru"} <= keys
