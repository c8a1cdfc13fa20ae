"""Chart descriptions (Chart.js configs as JSON) built from report data on the server."""

from __future__ import annotations

from typing import Any

from campaigns.reports.schemas import CampaignReport, ChannelTable, LiftReport

COLORS = {
    "voice": "#1f77b4",
    "sms": "#ff7f0e",
    "whatsapp": "#2ca02c",
    "reached": "#1f77b4",
    "went_on": "#2ca02c",
    "hung_up": "#d62728",
    "no_input": "#9467bd",
    "invalid": "#8c564b",
}
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2"]


def _n(value: object) -> float | None:
    # A suppressed cell ("<5") is drawn as a gap, never as a guessed number.
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def daily(report: CampaignReport) -> dict[str, Any]:
    labels = [row.day.isoformat()[5:] for row in report.daily]
    datasets = [
        {
            "label": ch,
            "data": [_n(row[ch]) for row in report.daily],
            "backgroundColor": COLORS[ch],
        }
        for ch in ("voice", "sms", "whatsapp")
    ]
    return {
        "type": "bar",
        "data": {"labels": labels, "datasets": datasets},
        "options": {"scales": {"x": {"stacked": True}, "y": {"stacked": True}}},
    }


def _short(label: str, length: int = 32) -> str:
    """A chart axis label short enough to be shown whole (the table beside it has it all)."""
    return label if len(label) <= length else label[: length - 1] + "…"


def funnel(rows: list[Any]) -> dict[str, Any]:
    """The funnel bars, in menu order, each labelled (every label shown, none skipped)."""
    # Only nodes where callers choose (menus, questions...): a message node just plays.
    shown = [r for r in rows if any(r.node[k] for k in ("went_on", "hung_up", "invalid"))]
    steps = ["reached", "went_on", "hung_up"]
    datasets = [
        {
            "label": step.replace("_", " "),
            "data": [_n(r.node[step]) for r in shown],
            "backgroundColor": COLORS[step],
        }
        for step in steps
    ]
    return {
        "type": "bar",
        "data": {"labels": [_short(r.label) for r in shown], "datasets": datasets},
        "options": {"indexAxis": "y", "scales": {"y": {"ticks": {"autoSkip": False}}}},
    }


def topics(report: CampaignReport) -> dict[str, Any]:
    rows = report.topics
    return {
        "type": "bar",
        "data": {
            "labels": [r.topic for r in rows],
            "datasets": [
                {
                    "label": "times chosen",
                    "data": [_n(r.count) for r in rows],
                    "backgroundColor": PALETTE[2],
                }
            ],
        },
        "options": {"plugins": {"legend": {"display": False}}},
    }


def channels(table: ChannelTable) -> dict[str, Any]:
    rows = table.rows
    return {
        "type": "bar",
        "data": {
            "labels": [r.campaign or r.medium for r in rows],
            "datasets": [
                {
                    "label": "unique contacts",
                    "data": [_n(r.unique_contacts) for r in rows],
                    "backgroundColor": PALETTE[0],
                    "yAxisID": "y",
                },
                {
                    "label": "cost per contact",
                    "data": [_n(r.cost_per_contact) for r in rows],
                    "backgroundColor": PALETTE[1],
                    "yAxisID": "y1",
                },
            ],
        },
        "options": {
            "scales": {
                "y": {"position": "left", "title": {"display": True, "text": "contacts"}},
                "y1": {
                    "position": "right",
                    "grid": {"drawOnChartArea": False},
                    "title": {"display": True, "text": "cost per contact"},
                },
            }
        },
    }


def lift_curves(lift: LiftReport) -> dict[str, Any]:
    datasets = [
        {
            "label": s.station,
            "data": [_n(v) for v in s.mean_per_minute],
            "borderColor": PALETTE[i % 7],
            "backgroundColor": PALETTE[i % 7],
            "fill": False,
            "tension": 0.2,
            "pointRadius": 0,
        }
        for i, s in enumerate(lift.stations)
    ]
    return {
        "type": "line",
        "data": {"labels": lift.minutes, "datasets": datasets},
        "options": {
            "scales": {
                "x": {"title": {"display": True, "text": "minutes from airing"}},
                "y": {"title": {"display": True, "text": "calls per minute (mean)"}},
            }
        },
    }


def lift_excess(lift: LiftReport) -> dict[str, Any]:
    rows = lift.airings
    stations = sorted({r.station for r in rows})
    color = {s: PALETTE[i % 7] for i, s in enumerate(stations)}
    return {
        "type": "bar",
        "data": {
            "labels": [f"{r.station} {r.aired_local[5:]}" for r in rows],
            "datasets": [
                {
                    "label": "excess calls",
                    "data": [_n(r.excess_calls) for r in rows],
                    "backgroundColor": [color[r.station] for r in rows],
                }
            ],
        },
        "options": {"plugins": {"legend": {"display": False}}},
    }
