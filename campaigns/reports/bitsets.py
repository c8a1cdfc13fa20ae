"""Exact contact sets as compressed bitmaps: bit i is set when ReportContact i is a member.

A Python int is the bitmap; union is `|`, intersection `&`, size `int.bit_count()`.
Stored zlib-compressed (sets are sparse, so they compress well).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable


def from_members(members: Iterable[int]) -> int:
    """Builds a bitmap from member ids."""
    bits = 0
    for member in members:
        bits |= 1 << member
    return bits


def from_sorted(members: list[int]) -> int:
    """Builds a bitmap from many ids quickly (via a bytearray, not one shift per id)."""
    if not members:
        return 0
    buf = bytearray(max(members) // 8 + 1)
    for member in members:
        buf[member >> 3] |= 1 << (member & 7)
    return int.from_bytes(buf, "little")


def encode(bits: int) -> bytes:
    """Serialises a bitmap."""
    raw = bits.to_bytes((bits.bit_length() + 7) // 8, "little")
    return zlib.compress(raw, 1)


def decode(blob: bytes) -> int:
    """Reads a serialised bitmap."""
    return int.from_bytes(zlib.decompress(blob), "little")


def members(bits: int) -> list[int]:
    """Lists the member ids of a bitmap (for tests and small sets)."""
    out = []
    raw = bits.to_bytes((bits.bit_length() + 7) // 8, "little")
    for index, byte in enumerate(raw):
        while byte:
            low = byte & -byte
            out.append(index * 8 + low.bit_length() - 1)
            byte ^= low
    return out
