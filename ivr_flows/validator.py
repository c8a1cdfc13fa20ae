"""Graph checks of a parsed flow: dangling links, unreachable nodes, dead-end loops."""

from __future__ import annotations

from ivr_flows.model import TERMINAL_KINDS, Flow, Issue, NodeKind


def validate(flow: Flow) -> list[Issue]:
    """Returns every graph problem of a flow, each with its location."""
    issues: list[Issue] = []
    if flow.start not in flow.nodes:
        issues.append(Issue("start", f"unknown node '{flow.start}'"))
    for node in flow.nodes.values():
        for suffix, target in node.targets():
            if target not in flow.nodes:
                issues.append(Issue(f"nodes.{node.id}.{suffix}", f"unknown node '{target}'"))
        if node.kind is NodeKind.OPTIN and not _digit_ok(node.accept):
            issues.append(Issue(f"nodes.{node.id}.accept", f"'{node.accept}' is not a key press"))
    issues.extend(_reachability(flow))
    return issues


def _digit_ok(value: str) -> bool:
    return len(value) == 1 and (value.isdigit() or value in "*#")


def _edges(flow: Flow) -> dict[str, list[str]]:
    return {
        node.id: [t for _, t in node.targets() if t in flow.nodes] for node in flow.nodes.values()
    }


def _reachability(flow: Flow) -> list[Issue]:
    edges = _edges(flow)
    issues: list[Issue] = []
    seen: set[str] = set()
    stack = [flow.start] if flow.start in flow.nodes else []
    while stack:
        current = stack.pop()
        if current not in seen:
            seen.add(current)
            stack.extend(edges[current])
    for node_id in flow.nodes:
        if node_id not in seen and flow.start in flow.nodes:
            issues.append(Issue(f"nodes.{node_id}", "unreachable from the start node"))
    # Walk backwards from every node that can end the call; the rest loop forever.
    incoming: dict[str, list[str]] = {n: [] for n in flow.nodes}
    for source, targets in edges.items():
        for target in targets:
            incoming[target].append(source)
    ending = {n.id for n in flow.nodes.values() if n.kind in TERMINAL_KINDS}
    stack = list(ending)
    while stack:
        current = stack.pop()
        for source in incoming[current]:
            if source not in ending:
                ending.add(source)
                stack.append(source)
    for node_id in flow.nodes:
        if node_id not in ending:
            issues.append(
                Issue(f"nodes.{node_id}", "loops forever: no path from here reaches a hangup")
            )
    return issues
