"""The recording studio: calls to OUTREACH_STUDIO_NUMBER record a prompt for the flow editor.

The caller enters the one-time code a manager got on the recordings page (<Gather>), then
speaks after the beep (<Record>). Twilio posts the finished recording's status callback here;
the audio is fetched from Twilio's REST API (built from the RecordingSid under our own account,
never from a URL in the form), checked and normalised like an upload, and waits as a pending
recording for a manager's approval. Every request is signed (SignedForm).
"""

from __future__ import annotations

import logging
import re

import httpx
from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from twilio.twiml.voice_response import VoiceResponse

from campaigns.flows.audio import AudioRefused, media_file, normalise, store_file
from campaigns.flows.phone import (
    CODE_DIGITS,
    MAX_TRIES,
    Claimed,
    add_pending,
    caller_blocked,
    claim_code,
    code_of_call,
    count_failure,
    known_recording,
)
from outreach.core.context import AppContext
from outreach.core.deps import CtxDep
from outreach.core.privacy import normalize_number
from outreach.core.settings import Settings
from webhooks.fields import ascii_number
from webhooks.security import SignedForm
from webhooks.transaction import in_transaction
from webhooks.voice_twiml import APOLOGY, spoken

log = logging.getLogger(__name__)
router = APIRouter(prefix="/twilio/voice/studio", tags=["twilio"])

TWIML = "application/xml"
RECORDING_SID = re.compile(r"^RE[0-9a-fA-F]{32}$")
TWILIO_API = "https://api.twilio.com"
FETCH_TIMEOUT = 15.0
_EN = ("Polly.Joanna", "en-US")
_RU = ("Polly.Tatyana", "ru-RU")
_AZ = ("Google.tr-TR-Standard-A", "tr-TR")
ASK = (
    ("Səs yazısı kodunu daxil edin.", *_AZ),
    ("Введите код записи.", *_RU),
    ("Please enter your recording code.", *_EN),
)
WRONG = (
    ("Bu kod düzgün deyil və ya vaxtı keçib.", *_AZ),
    ("Этот код неверен или устарел.", *_RU),
    ("Sorry, that code is not valid or has expired.", *_EN),
)
GOODBYE = (
    ("Yeni kod üçün səhifəyə qayıdın. Sağ olun.", *_AZ),
    ("Получите новый код на странице записей. До свидания.", *_RU),
    ("Please ask for a new code on the recordings page. Goodbye.", *_EN),
)
RECORD = (
    ("Siqnaldan sonra danışın, sonda diyez düyməsini basın.", *_AZ),
    ("Говорите после сигнала, в конце нажмите решётку.", *_RU),
    ("Speak after the beep, then press the hash key.", *_EN),
)
THANKS = (
    ("Təşəkkür edirik. Yazı təsdiq üçün səhifədə gözləyir.", *_AZ),
    ("Спасибо. Запись ждёт одобрения на странице записей.", *_RU),
    ("Thank you. The recording now waits for approval on the recordings page.", *_EN),
)


def is_studio(ctx: AppContext, ours: str) -> bool:
    """Whether a call to our number `ours` (E.164) is a call to the studio number."""
    studio = ctx.settings.studio_number.strip()
    return bool(studio) and (normalize_number(studio) or studio) == ours


def _url(ctx: AppContext, path: str) -> str:
    return f"{ctx.settings.public_url.rstrip('/')}/twilio/voice/studio/{path}"


def _say(verb: VoiceResponse, lines: tuple[tuple[str, str, str], ...]) -> None:
    for text, voice, language in lines:
        verb.say(text, voice=voice, language=language)


def ask_code(ctx: AppContext, attempt: int = 1, refused: bool = False) -> str:
    """The studio's greeting: a <Gather> of the code (after a refusal, if one)."""
    response = VoiceResponse()
    if refused:
        _say(response, WRONG)
    gather = response.gather(
        input="dtmf", num_digits=CODE_DIGITS, timeout=10, action=_url(ctx, f"code?try={attempt}")
    )
    _say(gather, ASK)
    _say(response, GOODBYE)
    response.hangup()
    return str(response)


def _record(ctx: AppContext, code_id: int) -> str:
    response = VoiceResponse()
    _say(response, RECORD)
    response.record(
        action=_url(ctx, f"done?code={code_id}"),
        recording_status_callback=_url(ctx, f"recording?code={code_id}"),
        recording_status_callback_event="completed",
        max_length=int(ctx.settings.audio_max_seconds),
        finish_on_key="#",
        play_beep=True,
        trim="trim-silence",
    )
    _say(response, GOODBYE)
    response.hangup()
    return str(response)


def _twiml(text: str) -> Response:
    return Response(content=text, media_type=TWIML)


def _field(form: FormData, name: str, limit: int = 64) -> str:
    return str(form.get(name) or "").strip()[:limit]


@router.post("/code")
def entered_code(request: Request, form: SignedForm, ctx: CtxDep) -> Response:
    """Checks the code: a <Record> for a live one, else a polite refusal (MAX_TRIES a call,
    MAX_CALLER_FAILURES wrong codes an hour from one caller)."""
    call_sid, caller = _field(form, "CallSid"), _field(form, "From")
    attempt = min(ascii_number(request.query_params.get("try")) or 1, MAX_TRIES)
    digits = _field(form, "Digits", 16)
    if not call_sid:
        return _twiml(spoken(APOLOGY))

    def work(session: Session) -> Claimed | None:
        key, now = ctx.settings.hash_key, ctx.clock()
        if caller_blocked(session, caller=caller, hash_key=key, now=now):
            return None  # too many wrong codes from this caller: not even checked
        claimed = claim_code(
            session, code=digits, call_sid=call_sid, caller=caller, hash_key=key, now=now
        )
        if claimed is None:
            count_failure(session, caller=caller, hash_key=key, now=now)
        return claimed

    def failed(_exc: Exception) -> Claimed | None:
        log.exception("studio code not checked", extra={"call": call_sid})
        return None

    claimed = in_transaction(ctx, work, failed=failed)
    if claimed is not None:
        return _twiml(_record(ctx, claimed.code_id))
    log.info("studio: a wrong or spent code", extra={"call": call_sid, "try": attempt})
    if attempt >= MAX_TRIES:
        return _twiml(spoken(WRONG + GOODBYE))
    return _twiml(ask_code(ctx, attempt + 1, refused=True))


@router.post("/done")
def recorded(form: SignedForm) -> Response:
    """The <Record> action: thanks the caller and hangs up (the audio comes by callback)."""
    return _twiml(spoken(THANKS))


def fetch_recording(settings: Settings, recording_sid: str) -> bytes:
    """The recording as WAV from Twilio's REST API, at most audio_max_bytes (+1 to tell)."""
    base = (settings.twilio_api_base_url or TWILIO_API).rstrip("/")
    url = f"{base}/2010-04-01/Accounts/{settings.twilio_account_sid}/Recordings/{recording_sid}.wav"
    auth = (settings.twilio_account_sid, settings.twilio_auth_token)
    limit = settings.audio_max_bytes + 1
    data = bytearray()
    with httpx.stream(
        "GET", url, auth=auth, timeout=FETCH_TIMEOUT, follow_redirects=True
    ) as answer:
        answer.raise_for_status()
        for chunk in answer.iter_bytes():
            data.extend(chunk)
            if len(data) >= limit:
                break
    return bytes(data[:limit])


@router.post("/recording")
def recording_status(request: Request, form: SignedForm, ctx: CtxDep) -> Response:
    """Twilio's recording status callback: fetches, checks and stores it as pending, once."""
    call_sid, recording_sid = _field(form, "CallSid"), _field(form, "RecordingSid")
    code_id = ascii_number(request.query_params.get("code"))
    if not call_sid or not RECORDING_SID.match(recording_sid) or code_id is None:
        return Response("missing CallSid, RecordingSid or code", status_code=400)
    if _field(form, "RecordingStatus", 16) != "completed":
        return Response(status_code=204)
    ids = {"call": call_sid, "recording": recording_sid}

    def lookup(session: Session) -> Claimed | None:
        claimed = code_of_call(
            session, code_id=code_id, call_sid=call_sid, hash_key=ctx.settings.hash_key
        )
        return None if claimed is None or known_recording(session, recording_sid) else claimed

    claimed = in_transaction(ctx, lookup, failed=lambda _e: None)
    if claimed is None:
        return Response(status_code=204)  # not this call's code, or already stored
    try:
        token, wav, duration_ms = normalise(
            fetch_recording(ctx.settings, recording_sid), ctx.settings
        )
    except (httpx.HTTPError, AudioRefused, RuntimeError):
        log.exception("studio: the recording could not be fetched or read", extra=ids)
        return Response(status_code=204)
    store_file(ctx.settings, token, wav)

    def add(session: Session) -> bool:
        return add_pending(
            session, claimed=claimed, recording_sid=recording_sid, token=token, wav=wav,
            duration_ms=duration_ms,
        )  # fmt: skip

    if not in_transaction(ctx, add, failed=lambda _e: False):
        media_file(ctx.settings, token).unlink(missing_ok=True)  # a copy got there first
    return Response(status_code=204)
