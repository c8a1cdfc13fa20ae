"""Reading flow files: YAML with duplicate-key and line tracking, parsed into typed nodes."""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path, PurePath
from typing import Any

import yaml

from ivr_flows.model import Flow, Issue
from ivr_flows.parse import parse_flow
from ivr_flows.validator import validate

Lines = dict[str, int]

# A flow file is a small YAML document (the demo's are under 10 KiB); anything larger is refused
# before it is read, so a wrong reference cannot make the service read a huge or endless file.
MAX_FLOW_BYTES = 256 * 1024
FLOW_SUFFIXES = (".yaml", ".yml")


class FlowError(ValueError):
    """A flow file that cannot be used; carries every issue found."""

    def __init__(self, source: str, issues: list[Issue]) -> None:
        self.source = source
        self.issues = issues
        listed = "; ".join(str(i) for i in issues[:5])
        more = f" (+{len(issues) - 5} more)" if len(issues) > 5 else ""
        super().__init__(f"{source}: {listed}{more}")


class FlowPathError(ValueError):
    """A flow reference that does not name a usable flow file; the message says why."""


def resolve_flow_path(root: Path, reference: str) -> Path:
    """Resolves a flow reference inside `root`: relative, no escape, a small regular YAML file.

    The result is the real path (symlinks followed), which must lie inside the real `root`.
    Only metadata is read (no file is opened), so a FIFO or a device cannot block the caller.
    """
    text = str(reference or "")
    if not text.strip():
        raise FlowPathError("the flow reference is empty")
    if "\x00" in text:
        raise FlowPathError("the flow reference contains a NUL character")
    if PurePath(text).is_absolute():
        raise FlowPathError(
            f"flow {text!r} must be a path relative to the flows folder, not an absolute path"
        )
    try:
        base = Path(os.path.realpath(root))
        target = Path(os.path.realpath(base / text))
    except (OSError, ValueError) as exc:
        raise FlowPathError(f"flow {text!r} cannot be resolved: {exc}") from exc
    if not target.is_relative_to(base):
        raise FlowPathError(f"flow {text!r} resolves outside the flows folder")
    if not text.lower().endswith(FLOW_SUFFIXES):
        raise FlowPathError(f"flow {text!r} must be a .yaml or .yml file")
    _stat_regular(target, text)
    return target


def _stat_regular(path: Path, label: str) -> os.stat_result:
    try:
        info = os.stat(path)
    except FileNotFoundError as exc:
        raise FlowPathError(f"voice flow file {label!r} not found") from exc
    except (OSError, ValueError) as exc:
        raise FlowPathError(f"flow {label!r} cannot be read: {exc}") from exc
    return _check_regular(info, label)


def _check_regular(info: os.stat_result, label: str) -> os.stat_result:
    if not stat.S_ISREG(info.st_mode):
        raise FlowPathError(f"flow {label!r} is not a regular file")
    if info.st_size > MAX_FLOW_BYTES:
        raise FlowPathError(f"flow {label!r} is larger than {MAX_FLOW_BYTES // 1024} KiB")
    return info


def read_flow_text(path: Path, label: str | None = None) -> str:
    """Reads a flow file: a regular file of at most MAX_FLOW_BYTES, never blocking on open.

    O_NONBLOCK makes opening a FIFO return at once, and the type and size are checked on the
    open descriptor, so a file swapped after an earlier check is still refused.
    """
    name = label if label is not None else str(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError as exc:
        raise FlowPathError(f"voice flow file {name!r} not found") from exc
    except (OSError, ValueError) as exc:
        raise FlowPathError(f"flow {name!r} cannot be read: {exc}") from exc
    with os.fdopen(fd, "rb") as handle:
        _check_regular(os.fstat(handle.fileno()), name)
        data = handle.read(MAX_FLOW_BYTES + 1)
    if len(data) > MAX_FLOW_BYTES:
        raise FlowPathError(f"flow {name!r} is larger than {MAX_FLOW_BYTES // 1024} KiB")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FlowPathError(f"flow {name!r} is not UTF-8 text") from exc


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


def check_file(path: Path, label: str | None = None) -> tuple[Flow | None, list[Issue]]:
    """Reads a flow file and returns the flow (if usable) and every issue found."""
    try:
        text = read_flow_text(path, label)
    except FlowPathError as exc:
        return None, [Issue("(file)", str(exc))]
    return check_text(text)


# (path as given, then the file it names: device, inode, size, mtime in ns) -> its flow
_CACHE: dict[tuple[str, int, int, int, int], Flow] = {}


def load_flow(path: Path) -> Flow:
    """Loads a valid flow or raises FlowError; cached by path and the file it names now.

    Every voice step loads its call's flow, so a cached one costs one stat: the stat follows
    symlinks, so a file edited in place, replaced or re-pointed by a link has another key.
    """
    try:
        info = _stat_regular(path, str(path))
    except FlowPathError as exc:
        raise FlowError(str(path), [Issue("(file)", str(exc))]) from exc
    key = (str(path), info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    flow, issues = check_file(path.resolve())
    if flow is None or issues:
        raise FlowError(str(path), issues)
    _CACHE[key] = flow
    return flow
