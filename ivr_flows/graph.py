"""The menu as a graph for a diagram: each node with its kind, label and labelled edges."""

from __future__ import annotations

from typing import Any

from ivr_flows.model import Flow, NodeKind


def _edges(flow: Flow, node_id: str) -> list[dict[str, str]]:
    node = flow.nodes[node_id]
    out = [
        {"label": o.label or o.language or o.digit, "key": o.digit, "to": o.next}
        for o in node.options
    ]
    if node.next is not None:
        label = "after hours / done" if node.kind is NodeKind.TRANSFER else "next"
        out.append({"label": label, "key": "", "to": node.next})
    if node.fallback is not None:
        out.append({"label": "fallback", "key": "", "to": node.fallback})
    return out


def graph(flow: Flow, missing: dict[str, list[str]]) -> dict[str, Any]:
    """Nodes in flow order (start first), each marked with the prompts it still lacks audio for.

    `missing` maps node ids to `field/language` entries (see ivr_flows.prompts).
    """
    order = [flow.start, *(n for n in flow.nodes if n != flow.start)]
    nodes = []
    for node_id in order:
        node = flow.nodes.get(node_id)
        if node is None:
            continue
        nodes.append(
            {
                "id": node.id,
                "kind": node.kind.value,
                "label": node.label or "",
                "edges": [e for e in _edges(flow, node_id)],
                "dangling": [e["to"] for e in _edges(flow, node_id) if e["to"] not in flow.nodes],
                "missing": missing.get(node.id, []),
                "number": node.number or "",
            }
        )
    return {"start": flow.start, "nodes": nodes, "flow_missing": missing.get("(flow)", [])}
