"""A check for `outreach campaigns validate`: a campaign's voice flow must itself be valid."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ivr_flows.loader import FlowPathError, check_file, resolve_flow_path

Where = tuple[str | int, ...]


def voice_flow_check(spec: Any, at: Where, base: Path | None) -> list[tuple[Where, str]]:
    """Reports a campaign's voice flow errors, and languages the flow does not speak."""
    voice = getattr(spec, "voice", None)
    if voice is None or base is None:
        return []
    try:
        path = resolve_flow_path(base, voice.flow)
    except FlowPathError:
        return []  # an unusable reference is reported by the campaigns validator itself
    where: Where = (*at, "voice", "flow")
    flow, issues = check_file(path, voice.flow)
    out = [(where, f"{voice.flow}: {issue}") for issue in issues]
    if flow is not None:
        missing = [lang for lang in getattr(spec, "languages", []) if lang not in flow.languages]
        if missing:
            out.append((where, f"{voice.flow} has no prompts in {', '.join(missing)}"))
    return out
