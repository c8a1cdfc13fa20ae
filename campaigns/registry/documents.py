"""A stored campaign as its document (the YAML entry, the API body) and back as column values.

`document` gives back exactly what was saved, so saving a campaign's document again changes
nothing; `snapshot` is the same as JSON values, for the audit log and for comparing versions.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy.orm import object_session

from campaigns.registry.channels import gateways
from campaigns.registry.flows import SOURCE_DIR
from campaigns.registry.models import Campaign
from campaigns.registry.schemas import CampaignSpec

CENTS = Decimal("0.01")
# Option keys that hold CampaignSpec fields (or the service's own); the rest are the entry's
# extra keys (follow-ups and later features), given back as they were written.
_OWN_OPTIONS = frozenset({"psa_codes", "voice", SOURCE_DIR})


def snapshot(row: Campaign) -> dict[str, Any]:
    """The campaign's document as JSON values (dates and amounts as text), without version."""
    return dict(json.loads(json.dumps(document(row, version=False), default=_json_value)))


def _json_value(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value.quantize(CENTS))
    return str(value)


def document(row: Campaign, *, version: bool = True) -> dict[str, Any]:
    """Returns a stored campaign as the entry (YAML or JSON) that saves it unchanged."""
    options = row.options or {}
    extra = {key: value for key, value in options.items() if key not in _OWN_OPTIONS}
    stamp = {"version": row.version} if version else {}
    return {
        "code": row.code,
        "name": row.name,
        "medium": str(row.medium),
        "region": row.region,
        "languages": list(row.languages),
        "start": row.start_date,
        "end": row.end_date,
        "cost": row.cost,
        "currency": row.currency,
        "timezone": row.timezone,
        "numbers": [n.number for n in row.numbers],
        "keywords": [{"keyword": k.keyword, "language": k.language} for k in row.keywords],
        "replies": dict(row.replies or {}),
        "psa_codes": list(options.get("psa_codes") or []),
        "voice": options.get("voice"),
        "channels": _channels(row),
        "archived": bool(row.archived),
        **extra,
        **stamp,
    }


def campaign_values(
    spec: CampaignSpec, source_dir: Path | None, default_timezone: str
) -> dict[str, Any]:
    options: dict[str, Any] = dict(spec.extra)
    options["psa_codes"] = list(spec.psa_codes)
    if source_dir is not None:
        options[SOURCE_DIR] = str(source_dir)
    if spec.voice is not None:
        options["voice"] = spec.voice.model_dump()
    return {
        "name": spec.name,
        "medium": spec.medium,
        "region": spec.region,
        "languages": [str(lang) for lang in spec.languages],
        "start_date": spec.start,
        "end_date": spec.end,
        "cost": spec.cost,
        "currency": spec.currency,
        "timezone": spec.timezone or default_timezone,
        "replies": dict(spec.replies),
        "options": options,
        "archived": spec.archived,
    }


def _channels(row: Campaign) -> dict[str, str]:
    """The gateway of each of the campaign's numbers not reached through Twilio."""
    session = object_session(row)
    listed = gateways(session) if session is not None else {}
    numbers = [n.number for n in row.numbers]
    return {n: str(listed[n]) for n in numbers if n in listed and listed[n] != "twilio"}
