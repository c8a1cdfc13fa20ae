"""Exact contact sets as Roaring bitmaps (pyroaring): member i is ReportContact i.

Roaring bitmaps keep sparse and dense sets small and union thousands of them in
milliseconds, which is what makes exact distinct counts across buckets cheap.
"""

from __future__ import annotations

from collections.abc import Iterable

from pyroaring import BitMap

__all__ = ["BitMap", "decode", "encode", "from_members", "members", "union"]


def from_members(ids: Iterable[int]) -> BitMap:
    """Builds a set from member ids."""
    return BitMap(ids)


def encode(bits: BitMap) -> bytes:
    """Serialises a set (the portable Roaring format)."""
    bits.run_optimize()
    return bytes(bits.serialize())


def decode(blob: bytes) -> BitMap:
    """Reads a serialised set."""
    return BitMap.deserialize(blob)


def union(sets: Iterable[BitMap]) -> BitMap:
    """Unions many sets at once."""
    items = list(sets)
    return BitMap.union(*items) if items else BitMap()


def members(bits: BitMap) -> list[int]:
    """Lists the member ids (for tests and small sets)."""
    return list(bits)
