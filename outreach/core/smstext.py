"""How a text travels as SMS: GSM-7 when every character has a GSM 03.38 code, else UCS-2.

Azerbaijani (ə, ş, ğ, ı, İ) and Cyrillic are not GSM-7; sent as GSM-7 they arrive as "?".
The GSM 03.38 table is the `gsm0338` codec's; segment sizes are those of 3GPP TS 23.040.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import gsm0338  # noqa: F401  (registers the "gsm03.38" codec)

GSM7 = "gsm03.38"
# (single message, each part of a concatenated one): septets for GSM-7, characters for UCS-2.
GSM7_LIMITS = (160, 153)
UCS2_LIMITS = (70, 67)
CODING_GSM7 = 0  # Kannel's `coding` values (sendsms and X-Kannel-Coding)
CODING_UCS2 = 2


def is_gsm7(text: str) -> bool:
    """Says whether every character of the text has a GSM 03.38 code."""
    try:
        text.encode(GSM7)
    except UnicodeEncodeError:
        return False
    return True


@dataclass(frozen=True)
class Encoding:
    coding: int  # CODING_GSM7 or CODING_UCS2
    charset: str  # what the bytes we hand the gateway are in
    payload: bytes
    segments: int


def encode(text: str) -> Encoding:
    """Picks the coding of a text and counts the SMS parts it takes."""
    if is_gsm7(text):
        # Extension characters (€, [, …) take two septets; the codec writes them as two bytes.
        units, limits = len(text.encode(GSM7)), GSM7_LIMITS
        return Encoding(CODING_GSM7, "UTF-8", text.encode("utf-8"), _segments(units, limits))
    # UCS-2 counts UTF-16 code units (an emoji outside the BMP takes two).
    payload = text.encode("utf-16-be")
    return Encoding(CODING_UCS2, "UTF-16BE", payload, _segments(len(payload) // 2, UCS2_LIMITS))


def _segments(units: int, limits: tuple[int, int]) -> int:
    single, part = limits
    return 1 if units <= single else math.ceil(units / part)
