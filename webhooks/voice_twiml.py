"""Renders engine actions as TwiML (<Say>, <Play>, <Gather>, <Dial>, <Redirect>, <Hangup>).

Audio fallback: app-relative audio URLs (`/audio/...`) are served from AUDIO_DIR. When such
a file is missing here, the prompt's text is spoken with `<Say>` in the voice the flow
declares for that language instead; for Azerbaijani that is a tr-TR voice, since no Twilio
voice speaks Azerbaijani. Absolute http(s) URLs are played as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, lru_cache
from pathlib import Path
from urllib.parse import urlencode

from twilio.twiml.voice_response import Gather as GatherVerb
from twilio.twiml.voice_response import VoiceResponse

from ivr_flows.actions import Action, Dial, Gather, Hangup, Play, Redirect, Reject, Say, Speech

AUDIO_DIR = Path(__file__).resolve().parents[1] / "campaigns" / "demo" / "audio"
AUDIO_PREFIX = "/audio/"

# Said when no flow applies or something broke; Azerbaijani via the Turkish voice (see above).
_AZ = ("Google.tr-TR-Standard-A", "tr-TR")
_RU = ("Polly.Tatyana", "ru-RU")
_EN = ("Polly.Joanna", "en-US")
NOT_IN_SERVICE = (
    ("Bu nömrə hazırda xidmət göstərmir. Zənginiz üçün təşəkkür edirik.", *_AZ),
    ("Этот номер сейчас не обслуживается. Спасибо за звонок.", *_RU),
    ("This number is not in service at the moment. Thank you for calling.", *_EN),
)
APOLOGY = (
    ("Üzr istəyirik, texniki xəta baş verdi. Zəhmət olmasa, sonra yenidən zəng edin.", *_AZ),
    ("Извините, произошла техническая ошибка. Пожалуйста, перезвоните позже.", *_RU),
    ("Sorry, something went wrong. Please call again later.", *_EN),
)


def step_url(public_url: str, seq: int, **extra: str) -> str:
    """Returns the absolute step URL Twilio posts back to, carrying the step number."""
    query = urlencode({"seq": str(seq), **extra})
    return f"{public_url.rstrip('/')}/twilio/voice/step?{query}"


def audio_file(url: str, audio_dir: Path = AUDIO_DIR) -> Path | None:
    """Returns the local file of an app-relative audio URL, or None for absolute URLs."""
    if not url.startswith(AUDIO_PREFIX):
        return None
    return audio_dir / url[len(AUDIO_PREFIX) :]


def _speak(
    verb: VoiceResponse | GatherVerb, item: Speech, public_url: str, audio_dir: Path
) -> None:
    if isinstance(item, Play):
        local = audio_file(item.url, audio_dir)
        if local is None:
            verb.play(item.url)
            return
        if local.is_file():
            verb.play(public_url.rstrip("/") + item.url)
            return
        verb.say(item.text, voice=item.voice, language=item.language)
        return
    verb.say(item.text, voice=item.voice, language=item.language)


def render(actions: list[Action], *, public_url: str, seq: int, audio_dir: Path = AUDIO_DIR) -> str:
    """Turns actions into TwiML; Gather, Dial and Redirect post back to step `seq`."""
    response = VoiceResponse()
    for action in actions:
        if isinstance(action, Say | Play):
            _speak(response, action, public_url, audio_dir)
        elif isinstance(action, Gather):
            gather = response.gather(
                input="dtmf",
                action=step_url(public_url, seq),
                method="POST",
                timeout=action.timeout,
                num_digits=action.num_digits,
                finish_on_key=action.finish_on_key,
                action_on_empty_result=True,
            )
            for prompt in action.prompts:
                _speak(gather, prompt, public_url, audio_dir)
        elif isinstance(action, Dial):
            response.dial(
                action.number,
                action=step_url(public_url, seq, event="dial"),
                method="POST",
                timeout=action.timeout,
            )
        elif isinstance(action, Redirect):
            response.redirect(step_url(public_url, seq, event="continue"), method="POST")
        elif isinstance(action, Reject):
            response.reject(reason=action.reason)
        elif isinstance(action, Hangup):
            response.hangup()
    return str(response)


@cache
def spoken(lines: tuple[tuple[str, str, str], ...], *, hangup: bool = True) -> str:
    """Returns TwiML saying each (text, voice, language) line, then hanging up.

    Kept per set of lines: they are the service's own fixed texts (the apology, "not in
    service", the studio's), and every voice request has the apology ready."""
    response = VoiceResponse()
    for text, voice, language in lines:
        response.say(text, voice=voice, language=language)
    if hangup:
        response.hangup()
    return str(response)


def reject(reason: str = "busy") -> str:
    response = VoiceResponse()
    response.reject(reason=reason)
    return str(response)


def renderer(public_url: str) -> Callable[[list[Action], int], str]:
    """Returns the renderer the voice service takes: a step's actions and its seq to TwiML."""
    return _renderer(public_url.rstrip("/"))


# Flows give each (actions, seq) the same TwiML again and again: a call's menus are its flow's
# nodes. The answers are kept per public URL (a bounded number of the latest ones). AUDIO_DIR,
# whose files decide between <Play> and its <Say> fallback, is the package's own data.
RENDERED_KEPT = 4096


@cache
def _renderer(public_url: str) -> Callable[[list[Action], int], str]:
    @lru_cache(maxsize=RENDERED_KEPT)
    def kept(actions: tuple[Action, ...], seq: int) -> str:
        return render(list(actions), public_url=public_url, seq=seq)

    def rendered(actions: list[Action], seq: int) -> str:
        return kept(tuple(actions), seq)

    return rendered
