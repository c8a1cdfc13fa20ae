"""The demo campaigns, dated around the demo's day so its traffic falls inside their dates.

campaigns/demo/campaigns.yaml is written for REFERENCE_DAY, a day on which every demo campaign
runs with at least a month behind it. Loaded for the demo, each campaign's start and end move
by the same number of days, so that day becomes today (or the day `demo seed --end` names):
a month of seeded traffic, the report and the dashboard's default range all fall inside them.
Tests load the file as written (fixed dates).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from campaigns.registry.schemas import CampaignFile
from campaigns.registry.service import (
    FILE_ACTOR,
    InvalidCampaignFile,
    LoadResult,
    apply,
    registry_conflicts,
    registry_index,
)
from campaigns.registry.validation import validate_file
from outreach.demo import DEMO_FILE

REFERENCE_DAY = date(2027, 3, 5)


def shifted(parsed: CampaignFile, *, day: date) -> CampaignFile:
    """The file's campaigns with their dates moved so REFERENCE_DAY falls on `day`."""
    delta = day - REFERENCE_DAY
    campaigns = [
        c.model_copy(update={"start": c.start + delta, "end": c.end + delta})
        for c in parsed.campaigns
    ]
    return parsed.model_copy(update={"campaigns": campaigns})


def load_demo(
    session: Session, *, day: date, default_timezone: str, path: Path = DEMO_FILE
) -> LoadResult:
    """Validates the demo file and applies it dated around `day` (twice a day changes nothing)."""
    report = validate_file(path)
    if not report.ok or report.parsed is None:
        raise InvalidCampaignFile([str(p) for p in report.problems])
    parsed = shifted(report.parsed, day=day)
    conflicts = registry_conflicts(
        parsed, registry_index(session, exclude=[c.code for c in parsed.campaigns])
    )
    if conflicts:
        raise InvalidCampaignFile([str(p) for p in conflicts])
    return apply(
        session,
        parsed,
        source_dir=path.resolve().parent,
        actor=FILE_ACTOR,
        default_timezone=default_timezone,
    )
