"""Reads the rollups of a scope: summed counts and unions of contact sets."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.reports import bitsets
from campaigns.reports.bitsets import BitMap
from campaigns.reports.filters import Scope
from campaigns.reports.models import RollupDaily, RollupPeople, RollupSet

Cell = tuple[int, str]  # (campaign id or 0, channel)
CountCell = tuple[int, str, str, str]  # (campaign id or 0, channel, metric, key)
DayCell = tuple[date, str]  # (local day, channel)


@dataclass
class ScopeData:
    """Counts by (campaign, channel, metric, key) and contact bitmaps by (campaign, channel).

    With `people`, also what the viewer rules need: the rollup rows behind each count (how
    many, first and last day), the contacts of each day and channel, and the sizes of the
    people sets behind each count (largest day set, summed day sets) with a way to fetch
    those sets when the sizes do not settle how many people there are.
    """

    counts: dict[CountCell, int] = field(default_factory=dict)
    sets: dict[Cell, BitMap] = field(default_factory=dict)
    firsts: BitMap = field(default_factory=BitMap)
    daily: dict[date, dict[str, int]] = field(default_factory=dict)
    rows: dict[CountCell, tuple[int, str, str]] = field(default_factory=dict)
    set_rows: dict[Cell, list[tuple[str, str, int]]] = field(default_factory=dict)
    daily_rows: dict[DayCell, int] = field(default_factory=dict)
    day_sets: dict[DayCell, BitMap] = field(default_factory=dict)
    people: dict[CountCell, tuple[int, int]] = field(default_factory=dict)
    fetch_people: Callable[[str, str], dict[Cell, BitMap]] | None = None
    _index: dict[tuple[str, str], list[CountCell]] = field(default_factory=dict, repr=False)

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

    def matching(
        self,
        metric: str,
        key: str = "",
        *,
        cells: frozenset[int] | set[int] | None = None,
        channel: str | None = None,
    ) -> list[CountCell]:
        """Lists the count cells a total of this metric and key sums."""
        if not self._index:
            for cell in sorted(self.counts):
                self._index.setdefault((cell[2], cell[3]), []).append(cell)
        return [
            cell
            for cell in self._index.get((metric, key), [])
            if (cells is None or cell[0] in cells) and (channel is None or cell[1] == channel)
        ]

    def by_key(self, metric: str, *, cells: set[int] | None = None) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for (cid, _ch, m, k), v in self.counts.items():
            if m == metric and (cells is None or cid in cells):
                out[k] += v
        return dict(out)

    def union(
        self, cells: frozenset[int] | set[int] | None = None, channel: str | None = None
    ) -> BitMap:
        return bitsets.union(
            members
            for (cid, ch), members in self.sets.items()
            if (cells is None or cid in cells) and (channel is None or ch == channel)
        )


def load(session: Session, scope: Scope, *, daily: bool = True, people: bool = False) -> ScopeData:
    """Reads everything a report of this scope needs from the rollups."""
    flt = scope.flt
    data = ScopeData()
    c = RollupDaily
    query = (
        select(
            c.campaign_id,
            c.channel,
            c.metric,
            c.key,
            func.sum(c.value),
            func.count(),
            func.min(c.day),
            func.max(c.day),
        )
        .where(c.day >= flt.start, c.day <= flt.end)
        .group_by(c.campaign_id, c.channel, c.metric, c.key)
    )
    query = _narrow(query, c, scope)
    for cid, channel, metric, key, value, rows, first, last in session.execute(query):
        data.counts[(cid, channel, metric, key)] = int(value)
        data.rows[(cid, channel, metric, key)] = (int(rows), str(first), str(last))
    s = RollupSet
    sets = select(s.day, s.campaign_id, s.channel, s.language, s.size, s.members).where(
        s.kind == "seen", s.day >= flt.start, s.day <= flt.end
    )
    grouped: dict[Cell, list[BitMap]] = {}
    by_day: dict[DayCell, list[BitMap]] = {}
    for day, cid, channel, language, size, blob in session.execute(_narrow(sets, s, scope)):
        bits = bitsets.decode(blob)
        grouped.setdefault((cid, channel), []).append(bits)
        if people:
            by_day.setdefault((day, channel), []).append(bits)
            data.set_rows.setdefault((cid, channel), []).append((str(day), language, size))
    data.sets = {cell: bitsets.union(parts) for cell, parts in grouped.items()}
    data.day_sets = {cell: bitsets.union(parts) for cell, parts in by_day.items()}
    if people:
        _load_people(session, scope, data)
    firsts = select(s.members).where(s.kind == "first", s.day >= flt.start, s.day <= flt.end)
    data.firsts = bitsets.union(bitsets.decode(blob) for blob in session.scalars(firsts))
    if daily:
        data.daily = _daily(session, scope, data)
    return data


def _load_people(session: Session, scope: Scope, data: ScopeData) -> None:
    p = RollupPeople
    during = (p.day >= scope.flt.start, p.day <= scope.flt.end)
    cells = (p.campaign_id, p.channel, p.metric, p.key)
    sizes = select(*cells, func.max(p.size), func.sum(p.size)).where(*during).group_by(*cells)
    for cid, channel, metric, key, largest, summed in session.execute(_narrow(sizes, p, scope)):
        data.people[(cid, channel, metric, key)] = (int(largest), int(summed))

    def fetch(metric: str, key: str) -> dict[Cell, BitMap]:
        query = select(p.campaign_id, p.channel, p.members).where(
            *during, p.metric == metric, p.key == key
        )
        grouped: dict[Cell, list[BitMap]] = {}
        for cid, channel, blob in session.execute(_narrow(query, p, scope)):
            grouped.setdefault((cid, channel), []).append(bitsets.decode(blob))
        return {cell: bitsets.union(parts) for cell, parts in grouped.items()}

    data.fetch_people = fetch


def _narrow(query, table, scope: Scope):  # type: ignore[no-untyped-def]
    flt = scope.flt
    if scope.campaign_ids is not None:
        query = query.where(table.campaign_id.in_(scope.campaign_ids or [-2]))
    if flt.channel:
        query = query.where(table.channel == flt.channel)
    if flt.language:
        query = query.where(table.language == flt.language)
    return query


def _daily(session: Session, scope: Scope, data: ScopeData) -> dict[date, dict[str, int]]:
    c = RollupDaily
    query = (
        select(c.day, c.channel, func.sum(c.value), func.count())
        .where(c.day >= scope.flt.start, c.day <= scope.flt.end, c.metric == "interactions")
        .group_by(c.day, c.channel)
    )
    out: dict[date, dict[str, int]] = {}
    day = scope.flt.start
    while day <= scope.flt.end:
        out[day] = {}
        day += timedelta(days=1)
    for local, channel, value, rows in session.execute(_narrow(query, c, scope)):
        out.setdefault(local, {})[channel] = int(value)
        data.daily_rows[(local, channel)] = int(rows)
    return out
