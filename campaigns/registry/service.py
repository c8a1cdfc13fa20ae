"""Applies validated campaigns to the database: a whole file idempotently, or one campaign.

Whatever the source, a campaign is checked by the one validator (validation.py) against the
rest of the registry before it is written; `document` gives back exactly what was saved, so
saving a campaign's document again changes nothing.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.audit.service import Actor, Interface, TargetKind, record
from campaigns.registry.cache import ORGANISATION_KEY
from campaigns.registry.cache import organisation as organisation
from campaigns.registry.changes import (
    FileConflict,
    FileConflicts,
    check_base,
    commit_change,
    file_conflict,
)
from campaigns.registry.channels import gateways, set_channels
from campaigns.registry.documents import campaign_values as _campaign_values
from campaigns.registry.documents import snapshot
from campaigns.registry.flows import SOURCE_DIR
from campaigns.registry.keywords import normalize_keyword
from campaigns.registry.models import Campaign, CampaignNumber, Hotline, Keyword, RegistrySetting
from campaigns.registry.schemas import CampaignFile, CampaignSpec, HotlineSpec
from campaigns.registry.validation import (
    Owner,
    Problem,
    RegistryIndex,
    registry_conflicts,
    validate_campaign,
    validate_file,
)
from outreach.core.settings import Settings

# Who loads a file when the caller names nobody (the command line names the system user).
FILE_ACTOR = Actor("file", Interface.CLI)
# The zone of a campaign that names none, unless the caller passes the configured one.
DEFAULT_TIMEZONE: str = Settings.model_fields["default_timezone"].default


class InvalidCampaignFile(ValueError):
    """The file has validation problems; `problems` lists them."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class InvalidCampaign(ValueError):
    """A campaign that the validator refuses; `problems` carry their locations."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


@dataclass
class LoadResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def load_file(
    session: Session,
    path: Path,
    *,
    actor: Actor = FILE_ACTOR,
    default_timezone: str = DEFAULT_TIMEZONE,
    force: bool = False,
) -> LoadResult:
    """Validates a campaigns file (with the registry) and applies it; twice changes nothing.

    Raises FileConflicts (changing nothing) when the file would change a campaign that was
    changed elsewhere since the file was last loaded, unless `force`.
    """
    report = validate_file(Path(path))
    if not report.ok or report.parsed is None:
        raise InvalidCampaignFile([str(p) for p in report.problems])
    index = registry_index(session, exclude=[c.code for c in report.parsed.campaigns])
    conflicts = registry_conflicts(report.parsed, index)
    if conflicts:
        raise InvalidCampaignFile([str(p) for p in conflicts])
    source_dir = Path(path).resolve().parent
    # A savepoint: a refused file leaves the caller's transaction as it was.
    with session.begin_nested():
        return apply(
            session,
            report.parsed,
            source_dir=source_dir,
            actor=actor,
            default_timezone=default_timezone,
            force=force,
        )


def apply(
    session: Session,
    parsed: CampaignFile,
    *,
    source_dir: Path,
    actor: Actor,
    default_timezone: str = DEFAULT_TIMEZONE,
    force: bool = False,
) -> LoadResult:
    """Creates or updates a validated file's campaigns and hotlines (others are left alone)."""
    result = LoadResult()
    conflicts: list[FileConflict] = []
    _put_setting(session, ORGANISATION_KEY, parsed.organisation.model_dump(mode="json"))
    for spec in parsed.campaigns:
        existing = session.scalar(select(Campaign).where(Campaign.code == spec.code))
        values = _campaign_values(spec, source_dir, default_timezone)
        if existing is None:
            created = _create(session, spec, values)
            set_channels(session, spec.numbers, spec.channels)
            session.flush()
            commit_change(
                session,
                created,
                actor=actor,
                action="create",
                before=None,
                after=snapshot(created),
                from_file=True,
            )
            result.created.append(spec.code)
            continue
        before = snapshot(existing)
        _update(existing, spec, values)
        set_channels(session, spec.numbers, spec.channels)
        after = snapshot(existing)
        conflict = None if force else file_conflict(session, existing, before, after)
        if conflict is not None:
            conflicts.append(conflict)
        elif commit_change(
            session,
            existing,
            actor=actor,
            action="load",
            before=before,
            after=after,
            from_file=True,
        ):
            result.updated.append(spec.code)
        else:
            result.unchanged.append(spec.code)
    if conflicts:
        raise FileConflicts(conflicts)
    set_channels(session, list(parsed.gateways()), parsed.gateways())
    for hotline in parsed.hotlines:
        row = session.scalar(select(Hotline).where(Hotline.number == hotline.number))
        hotline_values = _hotline_values(hotline, source_dir)
        label = f"hotline {hotline.number}"
        before_hotline = _hotline_state(row)
        if row is None:
            session.add(Hotline(number=hotline.number, **hotline_values))
            result.created.append(label)
        elif _assign(row, hotline_values) and _where_flows_live_aside(before_hotline, row):
            result.updated.append(label)
        else:
            result.unchanged.append(label)
    session.flush()
    return result


def registry_index(session: Session, *, exclude: Collection[str] = ()) -> RegistryIndex:
    """What the stored campaigns (but those in `exclude`, and archived ones) and hotlines own."""
    index = RegistryIndex()
    owned = session.execute(
        select(Campaign.code, CampaignNumber.number, Keyword.normalized)
        .join(CampaignNumber, CampaignNumber.campaign_id == Campaign.id)
        .join(Keyword, Keyword.campaign_id == Campaign.id)
        .where(Campaign.archived.is_(False))
        .order_by(Campaign.id, Keyword.id)
    )
    for code, number, normalized in owned:
        if code not in exclude:
            index.keywords.setdefault((number, normalized), Owner(code))
    live = select(Campaign.code, Campaign.options).where(Campaign.archived.is_(False))
    for code, options in session.execute(live):
        if code not in exclude:
            for psa in (options or {}).get("psa_codes") or []:
                index.psa_codes.setdefault(str(psa), Owner(code))
    index.hotline_numbers = set(session.scalars(select(Hotline.number)))
    listed = gateways(session)
    used = select(Campaign.code, CampaignNumber.number).join(CampaignNumber)
    for code, number in session.execute(used.order_by(CampaignNumber.id)):
        if code not in exclude:
            index.gateways.setdefault(number, (str(listed.get(number, "twilio")), code))
    return index


def get_campaign(session: Session, code: str) -> Campaign | None:
    """Gets a campaign by its code."""
    return session.scalar(select(Campaign).where(Campaign.code == code))


def save_campaign(
    session: Session,
    spec: CampaignSpec,
    *,
    flows_root: Path | None,
    default_timezone: str,
    actor: Actor,
    existing: Campaign | None = None,
) -> Campaign:
    """Validates a campaign against the registry, then creates it or replaces `existing`.

    An existing campaign keeps the flows folder it was saved with (its campaigns file's
    folder); a new one gets `flows_root`. Raises InvalidCampaign with every problem, and
    StaleVersion when `spec.version` names another version than the stored one.
    """
    if existing is not None:
        check_base(session, existing, spec.version)
    if existing is not None and existing.options.get(SOURCE_DIR):
        flows_root = Path(str(existing.options[SOURCE_DIR]))
    index = registry_index(session, exclude=[existing.code] if existing is not None else [])
    problems = validate_campaign(spec, flows_root=flows_root, registry=index)
    if problems:
        raise InvalidCampaign(problems)
    values = _campaign_values(spec, flows_root, default_timezone)
    if existing is None:
        campaign = _create(session, spec, values)
        set_channels(session, spec.numbers, spec.channels)
        session.flush()
        commit_change(
            session, campaign, actor=actor, action="create", before=None, after=snapshot(campaign)
        )
    else:
        before = snapshot(existing)
        _update(existing, spec, values)
        set_channels(session, spec.numbers, spec.channels)
        campaign = existing
        commit_change(
            session, campaign, actor=actor, action="update", before=before, after=snapshot(campaign)
        )
    session.flush()
    return campaign


def delete_campaign(session: Session, row: Campaign, *, actor: Actor) -> None:
    """Deletes a campaign (its interactions stay, unattributed) and records what it was."""
    record(
        session,
        actor=actor,
        action="delete",
        kind=TargetKind.CAMPAIGN,
        target=row.code,
        before=snapshot(row),
        version=row.version,
    )
    session.delete(row)
    session.flush()


def _create(session: Session, spec: CampaignSpec, values: dict[str, Any]) -> Campaign:
    campaign = Campaign(code=spec.code, **values)
    campaign.numbers = [CampaignNumber(number=n) for n in dict.fromkeys(spec.numbers)]
    campaign.keywords = _keywords(spec)
    session.add(campaign)
    return campaign


def _keywords(spec: CampaignSpec) -> list[Keyword]:
    out: dict[str, Keyword] = {}
    for kw in spec.keywords:
        norm = normalize_keyword(kw.keyword)
        out.setdefault(
            norm, Keyword(keyword=kw.keyword, normalized=norm, language=str(kw.language))
        )
    return list(out.values())


def _update(row: Campaign, spec: CampaignSpec, values: dict[str, Any]) -> bool:
    """Makes a campaign match its spec; returns whether anything changed."""
    changed = _assign(row, values)
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
    options.update({"flow": spec.flow, "timezone": spec.timezone, SOURCE_DIR: str(source_dir)})
    return {
        "name": spec.name,
        "languages": [str(lang) for lang in spec.languages],
        "replies": dict(spec.replies),
        "options": options,
    }


def _hotline_state(row: Hotline | None) -> dict[str, Any]:
    if row is None:
        return {}
    options = {k: v for k, v in (row.options or {}).items() if k != SOURCE_DIR}
    return {"name": row.name, "languages": row.languages, "replies": row.replies, **options}


def _where_flows_live_aside(before: dict[str, Any], row: Hotline) -> bool:
    """Whether a hotline changed in more than the folder its flow is read from."""
    return before != _hotline_state(row)


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
