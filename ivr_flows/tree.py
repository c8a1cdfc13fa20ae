"""Prints a flow as a tree of menus: each node once, later references point back to it."""

from __future__ import annotations

from rich.tree import Tree

from ivr_flows.model import Flow, Node, NodeKind

_ICONS = {
    NodeKind.MESSAGE: "💬",
    NodeKind.MENU: "☰",
    NodeKind.LANGUAGE: "🌐",
    NodeKind.QUESTION: "❓",
    NodeKind.PSA_CODE: "🔢",
    NodeKind.TRANSFER: "☎",
    NodeKind.OPTIN: "✉",
    NodeKind.GOTO: "↪",
    NodeKind.HANGUP: "⏹",
}
_PREVIEW = 60


def _summary(flow: Flow, node: Node) -> str:
    part = node.prompt.get(flow.default_language) or next(iter(node.prompt.values()), None)
    text = "" if part is None else part.text
    if len(text) > _PREVIEW:
        text = text[: _PREVIEW - 1] + "…"
    label = f" [bold]{node.label}[/bold]" if node.label else ""
    said = f' [dim]"{text}"[/dim]' if text else ""
    return f"{_ICONS[node.kind]} [cyan]{node.id}[/cyan] ({node.kind}){label}{said}"


def flow_tree(flow: Flow) -> Tree:
    """Returns a rich Tree of the flow, starting at its start node."""
    root = Tree(f"[bold]{flow.id}[/bold] {flow.title} — languages {', '.join(flow.languages)}")
    _add(flow, root, flow.start, set())
    return root


def _add(flow: Flow, parent: Tree, node_id: str, shown: set[str]) -> None:
    node = flow.node(node_id)
    if node is None:
        parent.add(f"[red]✗ unknown node '{node_id}'[/red]")
        return
    if node_id in shown:
        parent.add(f"↩ [cyan]{node_id}[/cyan] [dim](shown above)[/dim]")
        return
    shown.add(node_id)
    branch = parent.add(_summary(flow, node))
    for label, target in _edges(node):
        if label and target in shown:
            branch.add(f"{label} → ↩ [cyan]{target}[/cyan]")
        elif label:
            _add(flow, branch.add(label), target, shown)
        else:
            _add(flow, branch, target, shown)


def _edges(node: Node) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for option in node.options:
        what = option.label or option.value or option.language or ""
        out.append((f"[yellow]press {option.digit}[/yellow] {what}".rstrip(), option.next))
    if node.kind is NodeKind.PSA_CODE and node.next:
        out.append(("[yellow]known code[/yellow]", node.next))
    elif node.kind is NodeKind.TRANSFER and node.next:
        hours = node.hours
        when = "" if hours is None else f" {hours.start:%H:%M}-{hours.end:%H:%M}"
        out.append((f"[yellow]after hours{when} / no answer[/yellow]", node.next))
    elif node.kind is NodeKind.OPTIN and node.next:
        out.append((f"[yellow]press {node.accept}[/yellow] opt in, or anything else", node.next))
    elif node.next:
        out.append(("", node.next))
    if node.fallback:
        out.append(("[yellow]no valid input[/yellow]", node.fallback))
    return out
