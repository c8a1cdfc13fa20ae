"""What the editor page shows of a flow: issues with lines, the diagram, missing recordings."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from campaigns.flows.models import FlowVersion
from campaigns.flows.service import media_url
from ivr_flows.graph import graph
from ivr_flows.loader import check_text
from ivr_flows.prompts import NEEDS_RECORDING, missing_recordings, slots, with_audio


def check(source: str, recorded: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The live check: the same validator as `outreach flows validate`, and the diagram, with
    the prompts still lacking a recording marked (`recorded`: the newest version's)."""
    flow, issues = check_text(source)
    listed = [{"line": i.line, "location": i.location, "message": i.message} for i in issues]
    if flow is None:
        return {"issues": listed, "graph": None}
    return {"issues": listed, "graph": graph(flow, missing_recordings(flow, recorded or {}))}


def recordings(row: FlowVersion, public_url: str) -> dict[str, Any]:
    """Each prompt slot of a version with its recording (if any) and its text, by node."""
    flow, _ = check_text(row.source)
    if flow is None:
        return {"slots": [], "missing": {}, "graph": None}
    audio = row.audio or {}
    laid = with_audio(flow, {k: media_url("", t) for k, t in audio.items()})
    listed = [
        {
            "key": s.key,
            "node": s.node,
            "field": s.field,
            "language": s.language,
            "text": s.text,
            "url": s.audio,
            "recorded": s.key in audio,
            "needed": s.language in NEEDS_RECORDING,
        }
        for s in slots(laid)
    ]
    missing = missing_recordings(laid, audio)
    return {"slots": listed, "missing": missing, "graph": graph(laid, missing)}


def diff(a: FlowVersion, b: FlowVersion) -> list[tuple[str, str]]:
    """A unified diff of two versions' sources as (css class, line) pairs."""
    lines = difflib.unified_diff(
        a.source.splitlines(),
        b.source.splitlines(),
        fromfile=f"version {a.number}",
        tofile=f"version {b.number}",
        lineterm="",
    )
    out = []
    for line in lines:
        kind = "add" if line.startswith("+") else "del" if line.startswith("-") else "ctx"
        out.append((kind, line))
    changed = sorted(
        set(a.audio or {}) ^ set(b.audio or {})
        | {k for k in set(a.audio or {}) & set(b.audio or {}) if a.audio[k] != b.audio[k]}
    )
    out.extend(("audio", f"recording changed: {k}") for k in changed)
    return out
