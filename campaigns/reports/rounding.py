"""Controlled rounding of viewers' counts: each to a multiple of the base, fixed by content.

A count n that is not a multiple of the base b goes to one of its two neighbours: up with
probability (n mod b) / b, so on average it stays n (unbiased random rounding). The coin is
not random per request: it is a keyed hash (BLAKE2b, with a key derived from
OUTREACH_HASH_KEY) of the count and of what it was counted from (the set of people, or the
rollup rows). The same rows always round the same way, whatever query reaches them, so asking
again, or asking another way for the same rows, cannot average the rounding out. A count of at
least 1 never rounds to 0: a published 0 is a true 0.
"""

from __future__ import annotations

import hashlib
import hmac

from outreach.core.settings import Settings

_PURPOSE = b"outreach report rounding v1"


def secret_of(settings: Settings) -> bytes:
    """Derives the rounding key from the hash key (viewers know neither)."""
    return hmac.digest(settings.hash_key.encode(), _PURPOSE, "sha256")


def coin(secret: bytes, content: bytes) -> float:
    """A number in [0, 1) fixed by the content and unknowable without the key."""
    digest = hashlib.blake2b(content, key=secret[:64], digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def round_count(value: int, *, base: int, secret: bytes, content: bytes) -> int:
    """Rounds a count to a neighbouring multiple of the base, as its content decides."""
    if base <= 1 or value <= 0:
        return value
    low = value - value % base
    if low == value:
        return value
    up = coin(secret, content + b"|" + str(value).encode()) < (value - low) / base
    return low + base if up or low == 0 else low
