"""What a viewer may see of a report (disclosure control; README "Anonymity of reports").

1. Every count derived from fewer than K distinct people is hidden as "<K": counts of people,
   and counts of texts, calls, funnel steps, topics, opt-ins or deliveries whose people (from
   the rollups' exact contact sets) are fewer than K.
2. Secondary suppression (campaigns.reports.suppression) hides one more part where a visible
   total would give a hidden part away.
3. Every other count is rounded to a multiple of the base (campaigns.reports.rounding), each
   count on its own and fixed by its content, so no sum or difference of published numbers,
   within one answer or across answers, gives a hidden count back.
4. Rates, means and costs per contact are computed from the published counts (or hidden with
   them), so they cannot be multiplied back into exact counts.

The report builders record how they obtained each count in a Ledger, keyed by the count's
place in the JSON document; this module applies the rules to that document.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from campaigns.reports import bitsets
from campaigns.reports.bitsets import BitMap
from campaigns.reports.data import ScopeData
from campaigns.reports.metrics import Metric
from campaigns.reports.rounding import round_count, secret_of
from campaigns.reports.schemas import CampaignReport, ChannelTable
from campaigns.reports.suppression import hidden, protect_channels, protect_report
from outreach.core.settings import Settings

Path = tuple[str | int, ...]
Json = dict[str, Any]


@dataclass(frozen=True)
class Rules:
    """K, the rounding base and the rounding key."""

    k: int
    base: int
    secret: bytes

    @classmethod
    def of(cls, settings: Settings) -> Rules:
        return cls(settings.small_cell_k, settings.report_rounding_base, secret_of(settings))


@dataclass(frozen=True, eq=False)
class Tally:
    """How a count was obtained: a metric (and key) summed over cells, one day's interactions
    of a channel, or a set of people."""

    metric: str = ""
    key: str = ""
    cells: frozenset[int] | None = None
    channel: str | None = None
    day: date | None = None
    members: BitMap | None = None
    kind: str = ""  # of a set of people: "contacts", "new" or "returning"


@dataclass
class Ledger:
    """The tallies behind the counts of one report, by their path in its JSON document."""

    data: ScopeData
    tallies: dict[Path, Tally] = field(default_factory=dict)
    # Counts a derived number divides by without showing them (cost per contact's reach).
    divisors: dict[Path, Tally] = field(default_factory=dict)
    _fetched: dict[tuple[str, str], dict[tuple[int, str], BitMap]] = field(default_factory=dict)

    def count(
        self,
        path: Path,
        metric: str,
        key: str = "",
        *,
        cells: set[int] | None = None,
        channel: str | None = None,
    ) -> int:
        """Returns a summed count, noting how it was obtained."""
        frozen = frozenset(cells) if cells is not None else None
        self.tallies[path] = Tally(metric, key, frozen, channel)
        return self.data.total(metric, key, cells=cells, channel=channel)

    def people(
        self, path: Path, members: BitMap, kind: str = "contacts", cells: set[int] | None = None
    ) -> int:
        """Returns a count of people, noting who they are and which day sets they came from."""
        frozen = frozenset(cells) if cells is not None else None
        self.tallies[path] = Tally(members=members, kind=kind, cells=frozen)
        return len(members)

    def day(self, path: Path, day: date, channel: str) -> int:
        """Returns one day's interactions of a channel, noting it."""
        self.tallies[path] = Tally(Metric.INTERACTIONS, day=day, channel=channel)
        return self.data.daily.get(day, {}).get(channel, 0)

    def enough(self, tally: Tally, k: int) -> bool:
        """Whether at least K distinct people are behind a tally."""
        data = self.data
        if tally.members is not None:
            return len(tally.members) >= k
        if tally.day is not None:
            return len(data.day_sets.get((tally.day, tally.channel or ""), BitMap())) >= k
        if tally.metric == Metric.INTERACTIONS:
            return len(data.union(tally.cells, tally.channel)) >= k
        cells = data.matching(tally.metric, tally.key, cells=tally.cells, channel=tally.channel)
        sizes = [data.people.get(cell, (0, 0)) for cell in cells]
        if any(largest >= k for largest, _summed in sizes):
            return True  # one day and cell alone has K people
        if sum(summed for _largest, summed in sizes) < k:
            return False  # even counting someone seen on two days twice, fewer than K
        fetched = self._fetch(tally.metric, tally.key)
        union = bitsets.union(fetched.get((cid, ch), BitMap()) for cid, ch, _m, _k in cells)
        return len(union) >= k

    def _fetch(self, metric: str, key: str) -> dict[tuple[int, str], BitMap]:
        if (metric, key) not in self._fetched:
            fetch = self.data.fetch_people
            self._fetched[(metric, key)] = fetch(metric, key) if fetch else {}
        return self._fetched[(metric, key)]

    def content(self, tally: Tally) -> bytes:
        """What a count was obtained from, as bytes: the people, or the rollup rows summed
        (their cells, how many rows, first and last day). Equal for equal contents,
        whatever the filter that reached them."""
        data = self.data
        if tally.members is not None:
            # The day sets unioned and their sizes, not the members: contacts are numbered
            # anew by a rebuild, which must not give a viewer a second rounding to compare.
            # (New and returning differ from the contacts by their count, which is hashed too.)
            sets = sorted(
                (cell, sorted(rows))
                for cell, rows in data.set_rows.items()
                if tally.cells is None or cell[0] in tally.cells
            )
            return f"people|{tally.kind}|{sets}".encode()
        if tally.day is not None:
            rows = data.daily_rows.get((tally.day, tally.channel or ""), 0)
            return f"day|{tally.day}|{tally.channel}|{rows}".encode()
        cells = data.matching(tally.metric, tally.key, cells=tally.cells, channel=tally.channel)
        return ("rows|" + repr([(cell, data.rows.get(cell)) for cell in cells])).encode()

    def publish(self, tally: Tally, value: int, rules: Rules) -> int | str:
        """Returns what a viewer sees of a count: 0, "<K", or the rounded count."""
        if value <= 0:
            return value
        if value < rules.k or not self.enough(tally, rules.k):
            return hidden(rules.k)
        return round_count(value, base=rules.base, secret=rules.secret, content=self.content(tally))


def _get(doc: Any, path: Path) -> Any:
    for step in path:
        doc = doc[step]
    return doc


def _set(doc: Any, path: Path, value: Any) -> None:
    _get(doc, path[:-1])[path[-1]] = value


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def apply(doc: Json, ledger: Ledger, rules: Rules, secondary: Callable[[Json, int], Json]) -> Json:
    """Applies the rules to a report's JSON document (a new one is returned)."""
    for path, tally in ledger.tallies.items():
        value = _get(doc, path)
        if _is_count(value) and not ledger.enough(tally, rules.k):
            _set(doc, path, hidden(rules.k))
    out = secondary(doc, rules.k)
    for path, tally in ledger.tallies.items():
        value = _get(out, path)
        if _is_count(value):
            content = ledger.content(tally)
            rounded = round_count(value, base=rules.base, secret=rules.secret, content=content)
            _set(out, path, rounded)
    out["suppressed"]["base"] = rules.base
    return out


def ratio(top: Any, bottom: Any, digits: int, *, at_most: float | None = None) -> float | None:
    """Divides two published numbers; None when either is hidden or the divisor is 0."""
    if not isinstance(top, int | float) or not isinstance(bottom, int) or bottom <= 0:
        return None
    value = top / bottom
    return round(min(value, at_most) if at_most is not None else value, digits)


def by_published(value: Any) -> tuple[int, int]:
    """Sort key: larger published counts first, hidden ones after, as a viewer sees them."""
    return (0, -value) if isinstance(value, int) else (1, 0)


def _divisor(ledger: Ledger, path: Path, rules: Rules) -> int | str:
    tally = ledger.divisors[path]
    return ledger.publish(tally, len(tally.members or ()), rules)


def viewer_report(report: CampaignReport, ledger: Ledger, rules: Rules) -> CampaignReport:
    """Returns the reach report as a viewer may see it."""
    doc = apply(report.model_dump(mode="json", by_alias=True), ledger, rules, protect_report)
    calls = doc["calls"]
    if not ledger.enough(Tally(Metric.CALL_SECONDS), rules.k):
        calls["mean_duration"] = calls["median_duration"] = None  # timed by fewer than K
    cost = doc["cost"]
    cost["per_contact"] = ratio(cost["amount"], _divisor(ledger, ("cost", "per_contact"), rules), 2)
    # In the order a viewer can tell apart, so hidden counts are not ranked by their values.
    doc["topics"].sort(key=lambda t: (*by_published(t["count"]), t["topic"]))
    doc["keywords"].sort(key=lambda t: (t["campaign"], *by_published(t["count"]), t["keyword"]))
    doc["funnel"].sort(key=lambda n: (*by_published(n["reached"]), n["node"]))
    return CampaignReport.model_validate(doc)


def viewer_channels(table: ChannelTable, ledger: Ledger, rules: Rules) -> ChannelTable:
    """Returns the channel comparison as a viewer may see it."""
    doc = apply(table.model_dump(mode="json", by_alias=True), ledger, rules, protect_channels)
    rows: list[tuple[Path, Json]] = [(("rows", i), row) for i, row in enumerate(doc["rows"])]
    for at, row in [*rows, (("total",), doc["total"])]:
        row["interactions_per_contact"] = ratio(row["interactions"], row["unique_contacts"], 2)
        row["completion_rate"] = ratio(row["calls_completed"], row["calls"], 3, at_most=1.0)
        reached = _divisor(ledger, (*at, "cost_per_contact"), rules)
        row["cost_per_contact"] = ratio(row["cost"], reached, 2)
    return ChannelTable.model_validate(doc)
