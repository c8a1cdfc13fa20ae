"""CSV renderings of reports (values as the caller may see them: suppressed for viewers)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

KINDS = ("summary", "channels", "funnel", "topics", "daily", "lift", "stations")
FORMULA_STARTS = frozenset("=+-@\t\r")


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


def render(kind: str, data: dict[str, Any]) -> str:
    """Renders one table of a report as CSV."""
    if kind == "summary":
        skip = {"funnel", "topics", "daily", "filter"}
        pairs = [
            pair for key, value in data.items() if key not in skip for pair in _flatten(key, value)
        ]
        pairs = [*(("filter." + k, v) for k, v in data["filter"].items()), *pairs]
        return _table(["metric", "value"], ([k, v] for k, v in pairs))
    if kind == "channels":
        rows = [*data["rows"], data["total"]]
        header = list(rows[0].keys())
        return _table(header, ([row[h] for h in header] for row in rows))
    if kind == "funnel":
        header = ["node", "reached", "hung_up", "no_input", "invalid", "went_on"]
        return _table(header, ([row[h] for h in header] for row in data["funnel"]))
    if kind == "topics":
        return _table(["topic", "count"], ([r["topic"], r["count"]] for r in data["topics"]))
    if kind == "daily":
        header = list(data["daily"][0].keys()) if data["daily"] else ["day"]
        return _table(header, ([row[h] for h in header] for row in data["daily"]))
    if kind == "lift":
        header = [
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
        return _table(header, ([row[h] for h in header] for row in data["airings"]))
    if kind == "stations":
        header = ["station", "airings", "calls_after", "excess_calls", "mean_excess_per_airing"]
        return _table(header, ([row[h] for h in header] for row in data["stations"]))
    raise ValueError(f"unknown CSV export {kind!r}")
