"""Applies a validated campaigns file to the database, idempotently."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.registry.keywords import normalize_keyword
from campaigns.registry.models import Campaign, CampaignNumber, Hotline, Keyword, RegistrySetting
from campaigns.registry.schemas import CampaignFile, CampaignSpec, HotlineSpec
from campaigns.registry.validation import validate_file

ORGANISATION_KEY = "organisation"


class InvalidCampaignFile(ValueError):
    """The file has validation problems; `problems` lists them."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass
class LoadResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def load_file(session: Session, path: Path) -> LoadResult:
    """Validates a campaigns file and applies it; loading it twice changes nothing."""
    report = validate_file(Path(path))
    if not report.ok or report.parsed is None:
        raise InvalidCampaignFile([str(p) for p in report.problems])
    return apply(session, report.parsed, source_dir=Path(path).resolve().parent)


def apply(session: Session, parsed: CampaignFile, *, source_dir: Path) -> LoadResult:
    """Creates or updates the file's campaigns and hotlines (others are left alone)."""
    result = LoadResult()
    _put_setting(session, ORGANISATION_KEY, parsed.organisation.model_dump(mode="json"))
    for spec in parsed.campaigns:
        existing = session.scalar(select(Campaign).where(Campaign.code == spec.code))
        if existing is None:
            create_campaign(session, spec, source_dir=source_dir)
            result.created.append(spec.code)
        elif update_campaign(existing, spec, source_dir=source_dir):
            result.updated.append(spec.code)
        else:
            result.unchanged.append(spec.code)
    for hotline in parsed.hotlines:
        row = session.scalar(select(Hotline).where(Hotline.number == hotline.number))
        values = _hotline_values(hotline, source_dir)
        label = f"hotline {hotline.number}"
        if row is None:
            session.add(Hotline(number=hotline.number, **values))
            result.created.append(label)
        elif _assign(row, values):
            result.updated.append(label)
        else:
            result.unchanged.append(label)
    session.flush()
    return result


def _campaign_values(spec: CampaignSpec, source_dir: Path) -> dict[str, Any]:
    options: dict[str, Any] = dict(spec.extra)
    options["psa_codes"] = list(spec.psa_codes)
    options["source_dir"] = str(source_dir)
    if spec.voice is not None:
        options["voice"] = spec.voice.model_dump()
    return {
        "name": spec.name,
        "medium": spec.medium,
        "region": spec.region,
        "languages": list(spec.languages),
        "start_date": spec.start,
        "end_date": spec.end,
        "cost": spec.cost,
        "currency": spec.currency,
        "timezone": spec.timezone,
        "replies": dict(spec.replies),
        "options": options,
    }


def create_campaign(session: Session, spec: CampaignSpec, *, source_dir: Path) -> Campaign:
    """Adds a campaign from its spec (relative flow paths resolve against source_dir)."""
    campaign = Campaign(code=spec.code, **_campaign_values(spec, source_dir))
    campaign.numbers = [CampaignNumber(number=n) for n in dict.fromkeys(spec.numbers)]
    campaign.keywords = _keywords(spec)
    session.add(campaign)
    return campaign


def _keywords(spec: CampaignSpec) -> list[Keyword]:
    out: dict[str, Keyword] = {}
    for kw in spec.keywords:
        norm = normalize_keyword(kw.keyword)
        out.setdefault(norm, Keyword(keyword=kw.keyword, normalized=norm, language=kw.language))
    return list(out.values())


def update_campaign(row: Campaign, spec: CampaignSpec, *, source_dir: Path) -> bool:
    """Makes a campaign match its spec; returns whether anything changed."""
    changed = _assign(row, _campaign_values(spec, source_dir))
    wanted_numbers = list(dict.fromkeys(spec.numbers))
    if [n.number for n in row.numbers] != wanted_numbers:
        keep = {n.number: n for n in row.numbers}
        row.numbers = [keep.get(n) or CampaignNumber(number=n) for n in wanted_numbers]
        changed = True
    wanted = [(k.keyword, k.normalized, k.language) for k in _keywords(spec)]
    if [(k.keyword, k.normalized, k.language) for k in row.keywords] != wanted:
        keep_kw = {k.normalized: k for k in row.keywords}
        fresh = []
        for keyword, norm, language in wanted:
            current = keep_kw.get(norm) or Keyword(normalized=norm)
            current.keyword, current.language = keyword, language
            fresh.append(current)
        row.keywords = fresh
        changed = True
    return changed


def _hotline_values(spec: HotlineSpec, source_dir: Path) -> dict[str, Any]:
    options: dict[str, Any] = dict(spec.model_extra or {})
    options.update({"flow": spec.flow, "timezone": spec.timezone, "source_dir": str(source_dir)})
    return {
        "name": spec.name,
        "languages": list(spec.languages),
        "replies": dict(spec.replies),
        "options": options,
    }


def _assign(row: Any, values: dict[str, Any]) -> bool:
    changed = False
    for key, value in values.items():
        if getattr(row, key) != value:
            setattr(row, key, value)
            changed = True
    return changed


def _put_setting(session: Session, key: str, value: dict[str, Any]) -> None:
    row = session.get(RegistrySetting, key)
    if row is None:
        session.add(RegistrySetting(key=key, value=value))
    elif row.value != value:
        row.value = value


def organisation(session: Session) -> dict[str, Any]:
    """Returns the organisation block of the loaded file (empty if none was loaded)."""
    row = session.get(RegistrySetting, ORGANISATION_KEY)
    return dict(row.value) if row is not None else {}
