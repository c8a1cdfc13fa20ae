"""The office hours a campaign's voice flow file sets (its transfer steps), for showing only."""

from __future__ import annotations

from dataclasses import dataclass

from campaigns.registry.flows import flow_file
from campaigns.registry.models import Campaign
from ivr_flows.loader import FlowError, FlowPathError, load_flow
from ivr_flows.model import DAY_NAMES
from outreach.core.settings import Settings


@dataclass(frozen=True)
class Hours:
    step: str  # the flow step's label, else its id
    days: str
    start: str
    end: str
    timezone: str


def flow_hours(row: Campaign | None, settings: Settings) -> list[Hours]:
    """The office hours in the campaign's flow file (none when it has no readable flow)."""
    voice = (row.options or {}).get("voice") if row is not None else None
    if row is None or not isinstance(voice, dict) or not voice.get("flow"):
        return []
    try:
        flow = load_flow(flow_file(row.options or {}, str(voice["flow"]), settings))
    except (FlowError, FlowPathError):
        return []
    return [
        Hours(
            step=node.label or node.id,
            days=", ".join(DAY_NAMES[d] for d in sorted(node.hours.days)),
            start=node.hours.start.strftime("%H:%M"),
            end=node.hours.end.strftime("%H:%M"),
            timezone=node.hours.timezone or row.timezone,
        )
        for node in flow.nodes.values()
        if node.hours is not None
    ]
