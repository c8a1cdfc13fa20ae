"""Which folder a campaign's voice flow lives in, and the flow file a stored reference names.

A flow reference is a relative path inside a flows folder: the folder of the campaigns file
that declared it, or for campaigns saved through the API, OUTREACH_FLOWS_DIR (else the folder of
OUTREACH_CAMPAIGNS_FILE). `ivr_flows.loader.resolve_flow_path` enforces the rest: no escape
(after symlinks), regular files only, a size cap.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ivr_flows.loader import FlowPathError, resolve_flow_path
from outreach.core.settings import Settings

SOURCE_DIR = "source_dir"


def configured_root(settings: Settings) -> Path | None:
    """The flows folder for campaigns saved through the API (None when none is configured)."""
    if settings.flows_dir:
        return Path(settings.flows_dir).resolve()
    if settings.campaigns_file:
        return Path(settings.campaigns_file).resolve().parent
    return None


def stored_root(options: dict[str, Any], settings: Settings) -> Path | None:
    """The flows folder recorded with a campaign or hotline, else the configured one."""
    source = options.get(SOURCE_DIR)
    return Path(str(source)) if source else configured_root(settings)


def flow_file(options: dict[str, Any], reference: str, settings: Settings) -> Path:
    """Resolves a stored flow reference to its file, or raises FlowPathError."""
    root = stored_root(options, settings)
    if root is None:
        raise FlowPathError(f"flow {reference!r}: no flows folder is configured")
    return resolve_flow_path(root, reference)
