"""Reads the rollups of a scope: summed counts and unions of contact sets."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.reports import bitsets
from campaigns.reports.bitsets import BitMap
from campaigns.reports.filters import Scope
from campaigns.reports.models import RollupDaily, RollupSet

Cell = tuple[int, str]  # (campaign id or 0, channel)


@dataclass
class ScopeData:
    """Counts by (campaign, channel, metric, key) and contact bitmaps by (campaign, channel)."""

    counts: dict[tuple[int, str, str, str], int] = field(default_factory=dict)
    sets: dict[Cell, BitMap] = field(default_factory=dict)
    firsts: BitMap = field(default_factory=BitMap)
    daily: dict[date, dict[str, int]] = field(default_factory=dict)

    def total(
        self,
        metric: str,
        key: str = "",
        *,
        cells: set[int] | None = None,
        channel: str | None = None,
    ) -> int:
        return sum(
            v
            for (cid, ch, m, k), v in self.counts.items()
            if m == metric
            and k == key
            and (cells is None or cid in cells)
            and (channel is None or ch == channel)
        )

    def by_key(self, metric: str, *, cells: set[int] | None = None) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for (cid, _ch, m, k), v in self.counts.items():
            if m == metric and (cells is None or cid in cells):
                out[k] += v
        return dict(out)

    def union(self, cells: set[int] | None = None) -> BitMap:
        return bitsets.union(
            members for (cid, _ch), members in self.sets.items() if cells is None or cid in cells
        )


def load(session: Session, scope: Scope, *, daily: bool = True) -> ScopeData:
    """Reads everything a report of this scope needs from the rollups."""
    flt = scope.flt
    data = ScopeData()
    c = RollupDaily
    query = (
        select(c.campaign_id, c.channel, c.metric, c.key, func.sum(c.value))
        .where(c.day >= flt.start, c.day <= flt.end)
        .group_by(c.campaign_id, c.channel, c.metric, c.key)
    )
    query = _narrow(query, c, scope)
    for cid, channel, metric, key, value in session.execute(query):
        data.counts[(cid, channel, metric, key)] = int(value)
    s = RollupSet
    sets = select(s.campaign_id, s.channel, s.members).where(
        s.kind == "seen", s.day >= flt.start, s.day <= flt.end
    )
    grouped: dict[Cell, list[BitMap]] = {}
    for cid, channel, blob in session.execute(_narrow(sets, s, scope)):
        grouped.setdefault((cid, channel), []).append(bitsets.decode(blob))
    data.sets = {cell: bitsets.union(parts) for cell, parts in grouped.items()}
    firsts = select(s.members).where(s.kind == "first", s.day >= flt.start, s.day <= flt.end)
    data.firsts = bitsets.union(bitsets.decode(blob) for blob in session.scalars(firsts))
    if daily:
        data.daily = _daily(session, scope)
    return data


def _narrow(query, table, scope: Scope):  # type: ignore[no-untyped-def]
    flt = scope.flt
    if scope.campaign_ids is not None:
        query = query.where(table.campaign_id.in_(scope.campaign_ids or [-2]))
    if flt.channel:
        query = query.where(table.channel == flt.channel)
    if flt.language:
        query = query.where(table.language == flt.language)
    return query


def _daily(session: Session, scope: Scope) -> dict[date, dict[str, int]]:
    c = RollupDaily
    query = (
        select(c.day, c.channel, func.sum(c.value))
        .where(c.day >= scope.flt.start, c.day <= scope.flt.end, c.metric == "interactions")
        .group_by(c.day, c.channel)
    )
    out: dict[date, dict[str, int]] = {}
    day = scope.flt.start
    while day <= scope.flt.end:
        out[day] = {}
        day += timedelta(days=1)
    for local, channel, value in session.execute(_narrow(query, c, scope)):
        out.setdefault(local, {})[channel] = int(value)
    return out
