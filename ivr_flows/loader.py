"""Reading flow files: YAML with duplicate-key and line tracking, parsed into typed nodes."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from ivr_flows.model import Flow, Issue
from ivr_flows.parse import parse_flow
from ivr_flows.validator import validate

Lines = dict[str, int]


class FlowError(ValueError):
    """A flow file that cannot be used; carries every issue found."""

    def __init__(self, source: str, issues: list[Issue]) -> None:
        self.source = source
        self.issues = issues
        listed = "; ".join(str(i) for i in issues[:5])
        more = f" (+{len(issues) - 5} more)" if len(issues) > 5 else ""
        super().__init__(f"{source}: {listed}{more}")


def read_yaml(text: str) -> tuple[Any, Lines, list[Issue]]:
    """Parses YAML; returns (data, {dotted location: line}, duplicate-key issues)."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        return None, {}, [Issue("(file)", f"not valid YAML: {exc}", line)]
    lines: Lines = {}
    issues: list[Issue] = []
    if root is not None:
        _walk(root, "", lines, issues)
    return data, lines, issues


def _walk(node: yaml.Node, where: str, lines: Lines, issues: list[Issue]) -> None:
    lines.setdefault(where, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            child = f"{where}.{key}" if where else key
            if key in seen:
                # PyYAML keeps only the last value silently; a repeated digit is an error.
                what = "digit" if where.endswith(".options") else "key"
                issues.append(
                    Issue(child, f"duplicate {what} '{key}'", key_node.start_mark.line + 1)
                )
            seen.add(key)
            lines.setdefault(child, key_node.start_mark.line + 1)
            _walk(value_node, child, lines, issues)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, f"{where}.{index}", lines, issues)


def line_for(lines: Lines, location: str) -> int:
    """Returns the line of the deepest known prefix of a location (0 if none)."""
    probe = location
    while probe:
        if probe in lines:
            return lines[probe]
        probe = probe.rpartition(".")[0]
    return 0


def check_text(text: str) -> tuple[Flow | None, list[Issue]]:
    """Parses and validates flow text; returns the flow (if usable) and every issue."""

    data, lines, issues = read_yaml(text)
    if data is None and issues:
        return None, issues
    if not isinstance(data, Mapping):
        return None, [
            *issues,
            Issue("(file)", "a flow file must be a mapping with id, start, nodes"),
        ]
    flow, parse_issues = parse_flow(data)
    issues.extend(parse_issues)
    if flow is not None:
        issues.extend(validate(flow))
    located = [Issue(i.location, i.message, i.line or line_for(lines, i.location)) for i in issues]
    return flow, sorted(located, key=lambda i: i.line or 10**9)


def check_file(path: Path) -> tuple[Flow | None, list[Issue]]:
    """Reads a flow file and returns the flow (if usable) and every issue found."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return None, [Issue("(file)", f"cannot read {path}: {exc.strerror}")]
    return check_text(text)


_CACHE: dict[tuple[str, float], Flow] = {}


def load_flow(path: Path) -> Flow:
    """Loads a valid flow (cached by path and mtime) or raises FlowError."""
    resolved = path.resolve()
    try:
        key = (str(resolved), resolved.stat().st_mtime)
    except OSError as exc:
        raise FlowError(str(path), [Issue("(file)", f"cannot read: {exc.strerror}")]) from exc
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    flow, issues = check_file(resolved)
    if flow is None or issues:
        raise FlowError(str(path), issues)
    _CACHE[key] = flow
    return flow
