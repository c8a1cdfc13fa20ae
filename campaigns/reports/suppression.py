"""Small-cell suppression: counts of fewer than K people are shown as "<K".

Primary: every count from 1 to K-1 is hidden (0 reveals no one and stays).
Secondary: where visible parts add up to a visible total (channels to all interactions,
new + returning to unique, days to the period, media to the total), hiding one part would
let anyone subtract it back, so the next smallest visible non-zero part is hidden too;
if no such part exists the total is hidden. Ratios computed from a hidden count (per
contact, completion rate, durations) are hidden with it.

Viewers' reports get this from campaigns.reports.disclosure, after it has hidden the counts
from fewer than K people and before it rounds the others.
"""

from __future__ import annotations

import copy
from typing import Any

Value = int | float | str | None


def hidden(k: int) -> str:
    return f"<{k}"


def is_small(value: Value, k: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < k


def protect_group(parts: list[Value], total: Value, k: int) -> tuple[list[Value], Value]:
    """Applies primary and secondary suppression to parts that sum to a total."""
    out: list[Value] = [hidden(k) if is_small(v, k) else v for v in parts]
    total_out: Value = hidden(k) if is_small(total, k) else total
    if total_out is None or isinstance(total_out, str):
        return out, total_out  # no visible total to subtract from
    hidden_count = sum(isinstance(v, str) for v in out)
    if hidden_count == 1:
        candidates = [(v, i) for i, v in enumerate(out) if isinstance(v, int) and v > 0]
        if candidates:
            _value, index = min(candidates)
            out[index] = hidden(k)
        else:
            total_out = hidden(k)
    return out, total_out


def protect_report(report: dict[str, Any], k: int) -> dict[str, Any]:
    """Returns a copy of a campaign report safe for viewers."""
    r = copy.deepcopy(report)
    inter = r["interactions"]
    channels = [key for key in inter if key != "total"]
    parts, inter["total"] = protect_group([inter[c] for c in channels], inter["total"], k)
    inter.update(dict(zip(channels, parts, strict=True)))
    by_channel: dict[str, list[dict[str, Any]]] = {}
    for row in r.get("gateways", []):
        by_channel.setdefault(row["channel"], []).append(row)
    for channel, rows in by_channel.items():
        shares, _total = protect_group([row["interactions"] for row in rows], inter.get(channel), k)
        for row, value in zip(rows, shares, strict=True):
            row["interactions"] = value
    con = r["contacts"]
    (con["new"], con["returning"]), con["unique"] = protect_group(
        [con["new"], con["returning"]], con["unique"], k
    )
    calls = r["calls"]
    (calls["completed"],), calls["total"] = protect_group([calls["completed"]], calls["total"], k)
    if isinstance(calls["total"], str):
        calls["mean_duration"] = calls["median_duration"] = None
    for node in r["funnel"]:
        (node["hung_up"], node["went_on"]), node["reached"] = protect_group(
            [node["hung_up"], node["went_on"]], node["reached"], k
        )
        node["no_input"] = hidden(k) if is_small(node["no_input"], k) else node["no_input"]
        node["invalid"] = hidden(k) if is_small(node["invalid"], k) else node["invalid"]
    for topic in r["topics"]:
        topic["count"] = hidden(k) if is_small(topic["count"], k) else topic["count"]
    for keyword in r.get("keywords", []):
        keyword["count"] = hidden(k) if is_small(keyword["count"], k) else keyword["count"]
    r["transfers"] = hidden(k) if is_small(r["transfers"], k) else r["transfers"]
    for key, value in r["followups"].items():
        r["followups"][key] = hidden(k) if is_small(value, k) else value
    if isinstance(con["unique"], str):
        r["cost"]["per_contact"] = None
    _protect_columns(
        r["daily"], [key for key in r["daily"][0] if key != "day"] if r["daily"] else [], inter, k
    )
    r["suppressed"] = {"k": k}
    return r


def _protect_columns(
    rows: list[dict[str, Any]], columns: list[str], totals: dict[str, Any], k: int
) -> None:
    for column in columns:
        parts, _total = protect_group([row[column] for row in rows], totals.get(column), k)
        for row, value in zip(rows, parts, strict=True):
            row[column] = value


def protect_channels(table: dict[str, Any], k: int) -> dict[str, Any]:
    """Returns a copy of a channel comparison safe for viewers."""
    t = copy.deepcopy(table)
    rows, total = t["rows"], t["total"]
    for column in ("unique_contacts", "interactions", "calls", "calls_completed"):
        parts, total[column] = protect_group([row[column] for row in rows], total[column], k)
        for row, value in zip(rows, parts, strict=True):
            row[column] = value
    for row in [*rows, total]:
        if isinstance(row["unique_contacts"], str) or isinstance(row["interactions"], str):
            row["interactions_per_contact"] = None
        if isinstance(row["unique_contacts"], str):
            row["cost_per_contact"] = None
        if isinstance(row["calls"], str) or isinstance(row["calls_completed"], str):
            row["completion_rate"] = None
    t["suppressed"] = {"k": k}
    return t
