"""Anonymity: keyed contact ids, encrypted numbers while a send is pending, the scrub rule."""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

import phonenumbers
from cryptography.fernet import Fernet, InvalidToken

WHATSAPP_PREFIX = "whatsapp:"
# E.164-looking numbers (what Twilio sends), spaced or not, and bare runs of 9-15 digits.
# Dates, times and IP addresses are left alone, and so is a whole 64-digit hex token with a
# letter in it (a contact id: an HMAC; no phone number is that long), whose digit runs were
# masked before, so that a contact's log lines could not be found by its id.
_PHONE_LIKE = re.compile(
    r"(?<![0-9A-Za-z])(?=[0-9]{0,63}[a-f])[0-9a-f]{64}(?![0-9A-Za-z])"
    r"|(\+\d[\d \-()]{6,}\d|(?<![\d.:])\d{9,15}(?![\d.:]))"
)


@dataclass(frozen=True)
class Address:
    """A Twilio address split into channel and number (`whatsapp:+994…` or `+994…`)."""

    number: str
    whatsapp: bool

    @classmethod
    def parse(cls, raw: str) -> Address:
        raw = (raw or "").strip()
        if raw.lower().startswith(WHATSAPP_PREFIX):
            return cls(number=raw[len(WHATSAPP_PREFIX) :].strip(), whatsapp=True)
        return cls(number=raw, whatsapp=False)

    def twilio_form(self) -> str:
        return f"{WHATSAPP_PREFIX}{self.number}" if self.whatsapp else self.number


def contact_id(number: str, key: str) -> str:
    """Returns the anonymous contact id: HMAC-SHA256 of the normalised number under the key."""
    return _contact(_parse(number), number, key)


def identify(number: str, key: str) -> tuple[str, str | None]:
    """Returns (contact id, ISO country) of a number, parsing it once for both."""
    parsed = _parse(number)
    country = None if parsed is None else phonenumbers.region_code_for_number(parsed)
    return _contact(parsed, number, key), country


def _contact(parsed: phonenumbers.PhoneNumber | None, number: str, key: str) -> str:
    normalized = _e164(parsed) or number.strip()
    return hmac.new(key.encode(), normalized.encode(), hashlib.sha256).hexdigest()


def _parse(raw: str) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(raw, None)
    except phonenumbers.NumberParseException:
        return None


def _e164(parsed: phonenumbers.PhoneNumber | None) -> str | None:
    if parsed is None or not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalize_number(raw: str) -> str | None:
    """Returns the E.164 form of a number, or None if it is not a valid phone number."""
    return _e164(_parse(raw))


def is_valid_number(raw: str) -> bool:
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(raw, None))
    except phonenumbers.NumberParseException:
        return False


def country_of(number: str) -> str | None:
    """Returns the ISO country code of a number, or None; the number itself is not kept."""
    parsed = _parse(number)
    return None if parsed is None else phonenumbers.region_code_for_number(parsed)


class NumberVault:
    """Encrypts a number for as long as a send is pending (Fernet, key from settings)."""

    def __init__(self, key: str) -> None:
        self._fernet = Fernet(key.encode())

    def seal(self, number: str) -> str:
        return self._fernet.encrypt(number.encode()).decode()

    def open(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise ValueError("encrypted number cannot be read with this key") from exc


def scrub(text: str) -> str:
    """Masks anything shaped like a phone number (a safety net under the logging rules)."""
    return _PHONE_LIKE.sub(_mask, text)


def _mask(found: re.Match[str]) -> str:
    return "[number]" if found.group(1) else found.group(0)


def international(raw: str) -> str:
    """A gateway's address in E.164 when it is a full number written without the "+"
    (SMPP often drops it), so a person is the same contact on every gateway; else as given."""
    text = raw.strip()
    if text.isascii() and text.isdigit() and len(text) >= 10 and is_valid_number("+" + text):
        return "+" + text
    return text
