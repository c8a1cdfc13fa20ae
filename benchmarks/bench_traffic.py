"""Pre-signed Twilio webhook traffic for webhook_bench.py: SMS keyword texts and voice calls.

Every request is signed for PUBLIC_URL + its path (query included), the URL both the floor
app and Outreach are told is theirs, so the same bytes are valid on either server. Every
message and call gets a fresh Sid, so nothing takes a server's duplicate path.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import yaml
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parents[1]
DEMO_FILE = ROOT / "campaigns" / "demo" / "campaigns.yaml"
# Never resolved: only the signatures and the absolute URLs inside TwiML use it.
PUBLIC_URL = "https://outreach.bench.invalid"
ACCOUNT_SID = "AC" + "0" * 32
CALLERS = 5000

# Demo voice numbers whose flows a call can walk without side effects: the two radio spots
# (radio.yaml) and the shared hotline (hotline.yaml, asks for a PSA code). The TV number is
# left out: its missed-call callback rejects the call and places an outbound call.
RADIO_NUMBERS = ("+994125550101", "+994125550102")
HOTLINE_NUMBER = "+994125550100"
PSA_CODES = ("101", "102", "201")
SMS_TAILS = ("", " please", " 2027", "?")


@dataclass(frozen=True)
class Request:
    """One signed POST and a text its answer must contain to count as a success."""

    path: str
    body: str
    signature: str
    expect: str

    def tsv(self) -> str:
        return f"{self.path}\t{self.signature}\t{self.body}\t{self.expect}"


def demo_keywords(path: Path = DEMO_FILE) -> list[tuple[str, str, str, str]]:
    """Returns (number, keyword, language, reply) for every keyword of the demo campaigns."""
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    out: list[tuple[str, str, str, str]] = []
    for campaign in data.get("campaigns") or []:
        replies: dict[str, str] = campaign.get("replies") or {}
        for number in campaign.get("numbers") or []:
            for entry in campaign.get("keywords") or []:
                language = str(entry["language"])
                reply = replies.get(language) or next(iter(replies.values()), "")
                out.append((str(number), str(entry["keyword"]), language, reply))
    return out


class Signer:
    """Signs form posts the way Twilio does, for PUBLIC_URL."""

    def __init__(self, token: str, public_url: str = PUBLIC_URL) -> None:
        self.validator = RequestValidator(token)
        self.public_url = public_url.rstrip("/")

    def request(self, path: str, fields: dict[str, str], expect: str) -> Request:
        signature = self.validator.compute_signature(self.public_url + path, fields)
        body = "&".join(f"{_quote(k)}={_quote(v)}" for k, v in fields.items())
        return Request(path=path, body=body, signature=signature, expect=expect)


@lru_cache(maxsize=65536)
def _quote(value: str) -> str:
    # urlencode's quoting, cached: most values repeat (numbers, keywords, constants).
    return quote_plus(value)


def _callers(rng: random.Random) -> list[str]:
    prefixes = ("50", "51", "55", "70", "77")
    return [f"+994{rng.choice(prefixes)}{rng.randrange(10**7):07d}" for _ in range(CALLERS)]


def sms_requests(signer: Signer, count: int, rng: random.Random) -> list[Request]:
    """Keyword texts to the demo numbers, languages and keywords mixed."""
    keywords = demo_keywords()
    callers = _callers(rng)
    out: list[Request] = []
    for _ in range(count):
        number, keyword, _language, _reply = rng.choice(keywords)
        sid = "SM" + secrets.token_hex(16)
        fields = {
            "ToCountry": "AZ",
            "SmsMessageSid": sid,
            "NumMedia": "0",
            "ToCity": "",
            "FromCountry": "AZ",
            "SmsSid": sid,
            "SmsStatus": "received",
            "Body": keyword + rng.choice(SMS_TAILS),
            "To": number,
            "NumSegments": "1",
            "MessageSid": sid,
            "AccountSid": ACCOUNT_SID,
            "From": rng.choice(callers),
            "ApiVersion": "2010-04-01",
        }
        out.append(signer.request("/twilio/sms", fields, "<Message>"))
    return out


def _expect_seq(seq: int) -> str:
    # The <Gather action="…/twilio/voice/step?seq=N"> of the answer: the call moved on.
    return f'/twilio/voice/step?seq={seq}"'


def _call_keys(rng: random.Random, hotline: bool) -> list[str]:
    """Four key presses, each valid where the call stands, each answered by a <Gather>."""
    language = rng.choice("123")
    topic = rng.choice("12345")
    if hotline:
        # language -> PSA code (attributes the call) -> topic -> "1" again / "2" main menu
        return [language, rng.choice(PSA_CODES), topic, rng.choice("12")]
    # language -> topic -> "1" hear again | "2" main menu -> then the menu or a topic
    again = rng.choice("12")
    return [language, topic, again, "2" if again == "1" else rng.choice("12345")]


def voice_calls(signer: Signer, count: int, rng: random.Random) -> list[list[Request]]:
    """Calls of 5 requests each: the new call, then 4 menu steps with their `seq`."""
    callers = _callers(rng)
    calls: list[list[Request]] = []
    for _ in range(count):
        hotline = rng.random() < 1 / 3
        to = HOTLINE_NUMBER if hotline else rng.choice(RADIO_NUMBERS)
        caller = rng.choice(callers)
        base = {
            "AccountSid": ACCOUNT_SID,
            "ApiVersion": "2010-04-01",
            "CallSid": "CA" + secrets.token_hex(16),
            "From": caller,
            "Caller": caller,
            "To": to,
            "Called": to,
            "Direction": "inbound",
            "FromCountry": "AZ",
            "ToCountry": "AZ",
        }
        call = [signer.request("/twilio/voice", {**base, "CallStatus": "ringing"}, _expect_seq(1))]
        for seq, keys in enumerate(_call_keys(rng, hotline), start=1):
            fields = {**base, "CallStatus": "in-progress", "Digits": keys, "msg": "Gather End"}
            call.append(
                signer.request(f"/twilio/voice/step?seq={seq}", fields, _expect_seq(seq + 1))
            )
        calls.append(call)
    return calls


def lanes_of(
    scenario: str, signer: Signer, requests: int, lanes: int, rng: random.Random
) -> list[list[Request]]:
    """Splits a scenario's requests into `lanes` ordered lists (one per connection/thread)."""
    out: list[list[Request]] = [[] for _ in range(lanes)]
    if scenario == "sms":
        for index, request in enumerate(sms_requests(signer, requests, rng)):
            out[index % lanes].append(request)
        return out
    for index, call in enumerate(voice_calls(signer, max(1, requests // 5), rng)):
        out[index % lanes].extend(call)
    return out
