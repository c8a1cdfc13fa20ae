"""The TwiML renderer: Say/Play, the Azerbaijani audio fallback, Gather and Dial callbacks."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree

import pytest

from ivr_flows.actions import Action, Dial, Gather, Hangup, Play, Redirect, Reject, Say
from webhooks import voice_twiml
from webhooks.voice_twiml import render

PUBLIC = "https://outreach.example.org"
AZ = ("Google.tr-TR-Standard-A", "tr-TR")


def root(actions: list, audio_dir: Path) -> ElementTree.Element:  # type: ignore[type-arg]
    return ElementTree.fromstring(render(actions, public_url=PUBLIC, seq=4, audio_dir=audio_dir))


def test_existing_app_audio_is_played_from_the_public_url(tmp_path: Path) -> None:
    (tmp_path / "az").mkdir()
    (tmp_path / "az" / "hi.wav").write_bytes(b"RIFF")
    [play] = root([Play("/audio/az/hi.wav", "Salam", *AZ)], tmp_path)
    assert play.tag == "Play" and play.text == f"{PUBLIC}/audio/az/hi.wav"


def test_missing_app_audio_falls_back_to_say_in_the_turkish_voice(tmp_path: Path) -> None:
    [say] = root([Play("/audio/az/missing.wav", "Salam, xoş gəlmisiniz", *AZ)], tmp_path)
    assert say.tag == "Say" and say.text == "Salam, xoş gəlmisiniz"
    assert say.get("voice") == "Google.tr-TR-Standard-A" and say.get("language") == "tr-TR"


def test_absolute_audio_urls_are_played_as_given(tmp_path: Path) -> None:
    [play] = root([Play("https://cdn.example.org/a.mp3", "x", *AZ)], tmp_path)
    assert play.tag == "Play" and play.text == "https://cdn.example.org/a.mp3"


def test_gather_posts_back_to_the_next_step_even_without_input(tmp_path: Path) -> None:
    gather_action = Gather((Say("Press 1", "Polly.Joanna", "en-US"),), timeout=7, num_digits=1)
    [gather] = root([gather_action], tmp_path)
    assert gather.get("action") == f"{PUBLIC}/twilio/voice/step?seq=4"
    assert gather.get("actionOnEmptyResult") == "true" and gather.get("method") == "POST"
    assert (gather.get("timeout"), gather.get("numDigits"), gather.get("input")) == (
        "7",
        "1",
        "dtmf",
    )
    [say] = gather
    assert (say.get("voice"), say.get("language"), say.text) == ("Polly.Joanna", "en-US", "Press 1")


def test_dial_redirect_reject_and_hangup(tmp_path: Path) -> None:
    verbs = root([Dial("+994125550199", 20), Redirect(), Reject("busy"), Hangup()], tmp_path)
    dial, redirect, reject, hangup = verbs
    assert dial.get("action") == f"{PUBLIC}/twilio/voice/step?seq=4&event=dial"
    assert (dial.text or "").strip() == "+994125550199" and dial.get("timeout") == "20"
    assert redirect.text == f"{PUBLIC}/twilio/voice/step?seq=4&event=continue"
    assert reject.get("reason") == "busy" and hangup.tag == "Hangup"


def test_a_steps_twiml_is_rendered_once_and_served_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made: list[int] = []
    real = voice_twiml.render

    def counted(actions: list[Action], *, public_url: str, seq: int) -> str:
        made.append(seq)
        return real(actions, public_url=public_url, seq=seq)

    monkeypatch.setattr(voice_twiml, "render", counted)
    rendered = voice_twiml.renderer("https://once.example/")
    menu = [Gather(prompts=(Say("Salam", "Polly.Joanna", "en-US"),), timeout=5)]
    first = rendered(menu, 3)
    assert rendered(list(menu), 3) == first and made == [3]
    assert "seq=3" in first and "https://once.example/twilio/voice/step" in first
    # Another step number or other actions are rendered anew.
    assert "seq=4" in rendered(menu, 4)
    assert "Bye" in rendered([Say("Bye", "Polly.Joanna", "en-US")], 3)
    assert made == [3, 4, 3]
