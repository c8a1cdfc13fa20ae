"""CSV renderings of reports (values as the caller may see them: suppressed for viewers)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from campaigns.reports.schemas import (
    CampaignReport,
    ChannelTable,
    DailyRow,
    LiftReport,
    MediumRow,
    Payload,
)

KINDS = ("summary", "channels", "funnel", "topics", "daily", "lift", "stations")
FORMULA_STARTS = frozenset("=+-@\t\r")
MEDIUM = list(MediumRow.model_fields)
FUNNEL = ["node", "reached", "hung_up", "no_input", "invalid", "went_on"]
AIRING = [
    "id",
    "campaign",
    "station",
    "aired_at",
    "duration_seconds",
    "baseline_per_minute",
    "baseline_minutes_used",
    "calls_after",
    "excess_calls",
]
STATION = ["station", "airings", "calls_after", "excess_calls", "mean_excess_per_airing"]


def _flatten(prefix: str, value: Any) -> Iterable[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _flatten(f"{prefix}.{key}" if prefix else str(key), inner)
    else:
        yield prefix, value


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in FORMULA_STARTS:
        # Keep spreadsheet programs from running a cell as a formula (OWASP's list: a
        # leading TAB or CR is skipped by some programs, which then see the = after it).
        return "'" + value
    return value


def _table(header: list[str], rows: Iterable[list[Any]]) -> str:
    out = io.StringIO()
    # CRLF rows (RFC 4180): the writer then also quotes a cell holding a lone CR, which
    # with "\n" rows it would leave bare and so split the row in two for a reader.
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return out.getvalue()


def _rows(items: Sequence[Payload], header: Sequence[str]) -> Iterable[list[Any]]:
    for item in items:
        doc = item.model_dump(mode="json", by_alias=True)
        yield [doc[h] for h in header]


def render(kind: str, data: CampaignReport | ChannelTable | LiftReport) -> str:
    """Renders one table of a report as CSV (the kind must match the report given)."""
    if kind == "summary" and isinstance(data, CampaignReport):
        doc = data.model_dump(mode="json", by_alias=True)
        skip = {"funnel", "topics", "daily", "filter", "gateways"}
        pairs = [
            pair for key, value in doc.items() if key not in skip for pair in _flatten(key, value)
        ]
        pairs = [*(("filter." + k, v) for k, v in doc["filter"].items()), *pairs]
        return _table(["metric", "value"], ([k, v] for k, v in pairs))
    if kind == "channels" and isinstance(data, ChannelTable):
        return _table(MEDIUM, _rows([*data.rows, data.total], MEDIUM))
    if kind == "funnel" and isinstance(data, CampaignReport):
        return _table(FUNNEL, _rows(data.funnel, FUNNEL))
    if kind == "topics" and isinstance(data, CampaignReport):
        return _table(["topic", "count"], _rows(data.topics, ["topic", "count"]))
    if kind == "daily" and isinstance(data, CampaignReport):
        header = list(DailyRow.model_fields) if data.daily else ["day"]
        return _table(header, _rows(data.daily, header))
    if kind == "lift" and isinstance(data, LiftReport):
        return _table(AIRING, _rows(data.airings, AIRING))
    if kind == "stations" and isinstance(data, LiftReport):
        return _table(STATION, _rows(data.stations, STATION))
    raise ValueError(f"unknown CSV export {kind!r} of a {type(data).__name__}")
