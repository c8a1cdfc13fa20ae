"""The voice funnel as a manager reads it: nodes in menu order, named by their prompt.

The report counts calls per node id; the campaign's flow says the order (breadth first from the
start, following options in key order) and what each node says, in the page's language when the
flow has it, else in the flow's default language.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from campaigns.registry.flows import flow_file
from campaigns.registry.models import Campaign
from campaigns.reports.schemas import FunnelNode
from ivr_flows.loader import FlowError, FlowPathError, load_flow
from ivr_flows.model import Flow
from outreach.core.settings import Settings

LABEL_LENGTH = 60


@dataclass(frozen=True)
class FunnelRow:
    node: FunnelNode
    label: str


def _order(flow: Flow) -> list[str]:
    seen: dict[str, None] = {}
    queue = deque([flow.start])
    while queue:
        node_id = queue.popleft()
        node = flow.node(node_id)
        if node_id in seen or node is None:
            continue
        seen[node_id] = None
        queue.extend(target for _, target in node.targets())
    return [*seen, *(n for n in flow.nodes if n not in seen)]


def _label(flow: Flow, node_id: str, language: str) -> str:
    node = flow.node(node_id)
    if node is None:
        return node_id
    # The prompt in the page's language, else the node's label, else its default-language prompt.
    own, default = node.prompt.get(language), node.prompt.get(flow.default_language)
    text = (own.text if own else "") or node.label or (default.text if default else "") or node_id
    text = " ".join(text.split())
    return text if len(text) <= LABEL_LENGTH else text[: LABEL_LENGTH - 1] + "…"


def funnel_rows(
    campaign: Campaign, nodes: list[FunnelNode], settings: Settings, language: str
) -> list[FunnelRow]:
    """The report's funnel nodes in menu order with their labels (ids if the flow is gone)."""
    reference = (campaign.options.get("voice") or {}).get("flow")
    try:
        flow = (
            load_flow(flow_file(campaign.options, str(reference), settings)) if reference else None
        )
    except (FlowError, FlowPathError):
        flow = None
    if flow is None:
        return [FunnelRow(n, n.node) for n in nodes]
    rank = {node_id: index for index, node_id in enumerate(_order(flow))}
    ordered = sorted(nodes, key=lambda n: rank.get(n.node, len(rank)))
    return [FunnelRow(n, _label(flow, n.node, language)) for n in ordered]
