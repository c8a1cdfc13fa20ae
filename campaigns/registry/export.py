"""Writes the registry (organisation, hotlines, campaigns with their series) as a campaigns file.

The file loads back to the same state: every campaign's document is the one the API returns
(without its version), and the voice flows it names are copied beside it under the same
relative paths, so the loaded campaigns find the same flows.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.registry.channels import gateways
from campaigns.registry.documents import document
from campaigns.registry.flows import stored_root
from campaigns.registry.models import Campaign, Hotline
from campaigns.registry.service import organisation
from ivr_flows.loader import FlowPathError, resolve_flow_path
from outreach.core.settings import Settings

HEADER = "# Exported by `outreach campaigns export`; load it with `outreach campaigns load`.\n"


class ExportError(ValueError):
    """The registry cannot be written as one file (a flow is missing, or two differ)."""


@dataclass
class Export:
    """The file's data and the flow files to copy beside it (reference -> source file)."""

    data: dict[str, Any]
    flows: dict[str, Path] = field(default_factory=dict)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _drop_empty(entry: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if not (k in keys and v in (None, [], {}, False))}


def collect(session: Session, settings: Settings) -> Export:
    """Reads everything a campaigns file holds from the database."""
    out = Export(data={"version": 1})
    org = organisation(session)
    if org:
        out.data["organisation"] = org
    hotlines = []
    for row in session.scalars(select(Hotline).order_by(Hotline.id)):
        options = dict(row.options or {})
        entry = {
            "number": row.number,
            "name": row.name,
            "languages": list(row.languages),
            "flow": options.pop("flow", None),
            "timezone": options.pop("timezone", None),
            "replies": dict(row.replies or {}),
        }
        root = stored_root(options, settings)
        options.pop("source_dir", None)
        entry.update(options)
        if entry["flow"]:
            _add_flow(out, root, str(entry["flow"]))
        hotlines.append(_drop_empty(entry, ("flow", "timezone", "replies")))
    if hotlines:
        out.data["hotlines"] = hotlines
    campaigns = []
    for campaign in session.scalars(select(Campaign).order_by(Campaign.id)):
        entry = _plain(document(campaign, version=False))
        entry.pop("channels", None)
        flow = (entry.get("voice") or {}).get("flow")
        if flow:
            _add_flow(out, stored_root(campaign.options or {}, settings), str(flow))
        keys = ("region", "cost", "currency", "keywords", "replies", "psa_codes", "voice")
        campaigns.append(_drop_empty(entry, (*keys, "archived")))
    out.data["campaigns"] = campaigns
    listed: dict[str, list[str]] = {}
    for number, gateway in gateways(session).items():
        listed.setdefault(str(gateway), []).append(number)
    if listed:  # the file's one block of channels (campaign entries leave theirs out)
        out.data = {**{k: v for k, v in out.data.items() if k != "campaigns"}, "channels": listed}
        out.data["campaigns"] = campaigns
    return out


def _add_flow(out: Export, root: Path | None, reference: str) -> None:
    if root is None:
        raise ExportError(f"flow {reference!r}: no flows folder is configured")
    try:
        source = resolve_flow_path(root, reference)
    except FlowPathError as exc:
        raise ExportError(str(exc)) from exc
    known = out.flows.setdefault(reference, source)
    if known != source and known.read_bytes() != source.read_bytes():
        raise ExportError(f"two different flow files are both named {reference!r}")


def write(export: Export, path: Path) -> list[Path]:
    """Writes the file and copies its flows beside it; returns the flow files written."""
    target_dir = path.resolve().parent
    copied = []
    for reference, source in export.flows.items():
        target = (target_dir / reference).resolve()
        if not target.is_relative_to(target_dir):
            raise ExportError(f"flow {reference!r} would be written outside {target_dir}")
        if target == source.resolve():
            continue
        if target.exists() and target.read_bytes() != source.read_bytes():
            raise ExportError(f"{target} exists and differs from the stored flow {reference!r}")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        copied.append(target)
    text = yaml.safe_dump(export.data, allow_unicode=True, sort_keys=False, width=100)
    path.write_text(HEADER + text, encoding="utf-8")
    return copied
