"""Strict parsing of the numeric fields Twilio sends (form fields and our own query params)."""

from __future__ import annotations

import re

# ASCII digits only: str.isdigit() and int() also take "²" or Arabic-Indic digits.
_DIGITS = re.compile(r"[0-9]+", re.ASCII)
# Nine digits fit a 32-bit integer column on every database.
MAX_DIGITS = 9


def ascii_number(raw: object, *, max_digits: int = MAX_DIGITS) -> int | None:
    """Returns the number written in 1 to max_digits ASCII digits, else None (absent or bad)."""
    text = str(raw or "").strip()
    if len(text) > max_digits or not _DIGITS.fullmatch(text):
        return None
    return int(text)
