"""Terminal tables of a report (rich)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from campaigns.reports.schemas import CampaignReport, ChannelTable


def _v(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def print_report(console: Console, data: CampaignReport, table: ChannelTable) -> None:
    """Prints the summary, funnel, topics and channel comparison."""
    flt = data.filter
    named = flt.model_dump(exclude={"start", "end"})
    scope = ", ".join(f"{k}={v}" for k, v in named.items() if v)
    title = f"Reach {flt.start} – {flt.end} ({data.timezone}) {scope}".strip()
    summary = Table(title=title)
    summary.add_column("metric")
    summary.add_column("value", justify="right")
    rows = [
        ("interactions", data.interactions.total),
        ("  calls", data.interactions.voice),
        ("  SMS", data.interactions.sms),
        ("  WhatsApp", data.interactions.whatsapp),
        ("unique contacts", data.contacts.unique),
        ("  new", data.contacts.new),
        ("  returning", data.contacts.returning),
        ("calls", data.calls.total),
        ("calls completed", data.calls.completed),
        ("mean call duration (s)", data.calls.mean_duration),
        ("median call duration (s)", data.calls.median_duration),
        ("transfers", data.transfers),
        ("opt-ins", data.followups.opt_ins),
        ("follow-ups delivered", data.followups.delivered),
        ("opt-outs", data.followups.opt_outs),
        ("cost in these dates (pro rata)", data.cost.amount),
        ("cost per unique contact", data.cost.per_contact),
    ]
    for name, value in rows:
        summary.add_row(name, _v(value))
    console.print(summary)
    steps = ("reached", "went_on", "hung_up", "no_input", "invalid")
    if data.funnel:
        funnel = Table(title="Voice menu funnel")
        for col in ("node", *steps):
            funnel.add_column(col, justify="left" if col == "node" else "right")
        for node in data.funnel:
            funnel.add_row(node.node, *(_v(node[c]) for c in steps))
        console.print(funnel)
    if data.topics:
        topics = Table(title="Topics chosen")
        topics.add_column("topic")
        topics.add_column("count", justify="right")
        for row in data.topics:
            topics.add_row(row.topic, _v(row.count))
        console.print(topics)
    if data.keywords:
        keywords = Table(title="Texts per keyword")
        for col in ("campaign", "keyword", "count"):
            keywords.add_column(col, justify="right" if col == "count" else "left")
        for kw in data.keywords:
            keywords.add_row(kw.campaign, kw.keyword, _v(kw.count))
        console.print(keywords)
    media = Table(title="Channel comparison")
    cols = (
        *(("campaign",) if table.by == "campaign" else ()),
        "medium",
        "unique_contacts",
        "interactions",
        "interactions_per_contact",
        "completion_rate",
        "cost_per_contact",
    )
    for col in cols:
        media.add_column(
            col.replace("_", " "), justify="left" if col in ("medium", "campaign") else "right"
        )
    for medium in [*table.rows, table.total]:
        media.add_row(*(_v(medium[c]) for c in cols))
    console.print(media)
