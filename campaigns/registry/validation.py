"""One validator for campaigns, however they arrive: the YAML file, the JSON API, the CLI.

Every problem carries its location (a path of keys and indexes; in a file, also its line).
The per-campaign rules and the registry-wide ones (a keyword or PSA code another campaign
owns, a shared hotline number) are the same functions whether a whole file is checked or one
campaign is saved through the API against the campaigns already in the database.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from campaigns.registry.keywords import normalize_keyword
from campaigns.registry.notes import campaign_notes
from campaigns.registry.schemas import CampaignFile, CampaignSpec, HotlineSpec
from campaigns.registry.series import campaign_check as followups_check
from campaigns.registry.yamlmap import Path_, YamlSourceError, format_path, line_of, load_with_lines
from ivr_flows.campaign_check import voice_flow_check
from ivr_flows.loader import FlowPathError, check_file, resolve_flow_path

KEYWORD_COLUMN = 64  # keywords.normalized is String(64)
# Option keys the service sets itself; a campaign entry may not supply them.
RESERVED_KEYS = frozenset({"source_dir"})
NO_FLOWS_FOLDER = (
    "no flows folder is configured for campaigns saved through the API: set OUTREACH_FLOWS_DIR"
)


@dataclass(frozen=True)
class Problem:
    path: str
    line: int
    message: str
    loc: Path_ = ()

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return f"{where}{self.path}: {self.message}"


@dataclass
class Report:
    source: Path
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    parsed: CampaignFile | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class Owner:
    """The campaign that owns a keyword or PSA code, and where it says so (in a file)."""

    code: str
    where: Path_ | None = None

    def describe(self, code: str) -> str:
        who = "this campaign" if self.code == code else f"campaign {self.code}"
        return f"{who} ({format_path(self.where)})" if self.where is not None else who


@dataclass
class RegistryIndex:
    """What campaigns already own: keywords per number, PSA codes, and the hotline numbers."""

    keywords: dict[tuple[str, str], Owner] = field(default_factory=dict)
    psa_codes: dict[str, Owner] = field(default_factory=dict)
    hotline_numbers: set[str] = field(default_factory=set)
    # number -> (its gateway, a campaign that uses it): a number has one channel
    gateways: dict[str, tuple[str, str]] = field(default_factory=dict)


# Checks that later features add (a voice flow is valid, follow-up series are complete…).
# Each gets (campaign spec, its location, the flows folder) and yields (location, message).
CampaignCheck = Callable[[CampaignSpec, Path_, Path | None], list[tuple[Path_, str]]]
EXTRA_CHECKS: list[CampaignCheck] = [followups_check, voice_flow_check]


def validate_file(path: Path, *, registry: RegistryIndex | None = None) -> Report:
    """Validates a campaigns YAML file and returns every problem found."""
    report = Report(source=path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        report.problems.append(Problem("(file)", 0, f"cannot read: {exc.strerror}"))
        return report
    return validate_text(text, path, report, registry=registry)


def validate_text(
    text: str, path: Path, report: Report | None = None, *, registry: RegistryIndex | None = None
) -> Report:
    """Validates campaigns YAML text; `registry` holds what campaigns outside the file own."""
    report = report or Report(source=path)
    try:
        data, lines = load_with_lines(text)
    except YamlSourceError as exc:
        report.problems.append(Problem("(file)", 0, str(exc)))
        return report

    def add(where: Path_, message: str) -> None:
        report.problems.append(
            Problem(format_path(where), line_of(lines, where), message, tuple(where))
        )

    if not isinstance(data, dict):
        add((), "the file must be a mapping with `campaigns:` (and optionally `hotlines:`)")
        return report
    try:
        parsed = CampaignFile.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            add(tuple(err["loc"]), _message(err))
        # One pass: the entries that are valid on their own still get every cross-check.
        campaigns, hotlines = _valid_entries(data)
    else:
        report.parsed = parsed
        campaigns, hotlines = list(enumerate(parsed.campaigns)), list(enumerate(parsed.hotlines))
    _file_checks(campaigns, hotlines, add, path.parent, registry or RegistryIndex())
    for _, camp in campaigns:
        report.notes.extend(campaign_notes(camp))
    return report


def _valid_entries(
    data: dict[str, Any],
) -> tuple[list[tuple[int, CampaignSpec]], list[tuple[int, HotlineSpec]]]:
    """The campaigns and hotlines of a file that fails validation which are valid alone."""

    def valid(key: str, model: Any) -> list[tuple[int, Any]]:
        entries = data.get(key)
        found = []
        for index, entry in enumerate(entries if isinstance(entries, list) else []):
            try:
                found.append((index, model.model_validate(entry)))
            except ValidationError:
                continue
        return found

    return valid("campaigns", CampaignSpec), valid("hotlines", HotlineSpec)


def validate_campaign(
    spec: CampaignSpec, *, flows_root: Path | None, registry: RegistryIndex
) -> list[Problem]:
    """Validates one campaign against the others (`registry` must not contain its own entries)."""
    return [
        Problem(format_path(where), 0, message, tuple(where))
        for where, message in check_campaign(spec, (), flows_root=flows_root, registry=registry)
    ]


def errors_of(exc: ValidationError) -> list[Problem]:
    """Turns a pydantic error into problems, located like the validator's own."""
    return [
        Problem(format_path(tuple(e["loc"])), 0, _message(e), tuple(e["loc"])) for e in exc.errors()
    ]


def _message(err: Any) -> str:
    msg = str(err.get("msg", "invalid"))
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if err.get("type") == "enum":
        msg = f"{msg} (got {err.get('input')!r})"
    return msg


def _file_checks(
    campaigns: list[tuple[int, CampaignSpec]],
    hotlines: list[tuple[int, HotlineSpec]],
    add: Callable[[Path_, str], None],
    base: Path,
    registry: RegistryIndex,
) -> None:
    registry.hotline_numbers |= {h.number for _, h in hotlines}
    seen_codes: dict[str, int] = {}
    for index, camp in campaigns:
        at: Path_ = ("campaigns", index)
        if camp.code in seen_codes:
            add(
                (*at, "code"),
                f"duplicate campaign code {camp.code!r} (also campaigns[{seen_codes[camp.code]}])",
            )
        seen_codes.setdefault(camp.code, index)
        for where, message in check_campaign(camp, at, flows_root=base, registry=registry):
            add(where, message)
    for index, hotline in hotlines:
        if hotline.flow is None:
            continue
        flow_at: Path_ = ("hotlines", index, "flow")
        try:
            resolved = resolve_flow_path(base, hotline.flow)
        except FlowPathError as exc:
            add(flow_at, str(exc))
            continue
        for issue in check_file(resolved, hotline.flow)[1]:
            add(flow_at, f"{hotline.flow}: {issue}")


def check_campaign(
    camp: CampaignSpec, at: Path_, *, flows_root: Path | None, registry: RegistryIndex
) -> list[tuple[Path_, str]]:
    """Every rule for one campaign; registers its keywords and PSA codes in `registry`."""
    return [*campaign_rules(camp, at, flows_root), *registry_rules(camp, at, registry)]


def registry_conflicts(parsed: CampaignFile, registry: RegistryIndex) -> list[Problem]:
    """Checks a valid file's campaigns against what campaigns outside the file own."""
    registry.hotline_numbers |= {h.number for h in parsed.hotlines}
    return [
        Problem(format_path(where), 0, message, tuple(where))
        for index, camp in enumerate(parsed.campaigns)
        for where, message in registry_rules(camp, ("campaigns", index), registry)
    ]


def campaign_rules(
    camp: CampaignSpec, at: Path_, flows_root: Path | None
) -> list[tuple[Path_, str]]:
    """The rules a campaign obeys on its own: dates, replies, keywords, its voice flow."""
    out: list[tuple[Path_, str]] = []
    if camp.end < camp.start:
        out.append(((*at, "end"), f"date range ends ({camp.end}) before it starts ({camp.start})"))
    if camp.keywords and not camp.numbers:
        out.append(((*at, "numbers"), "keywords need at least one number to be texted"))
    for lang in camp.languages:
        if camp.keywords and not (camp.replies.get(lang) or "").strip():
            out.append(((*at, "replies"), f"reply missing for declared language {lang.value!r}"))
    for code in camp.replies:
        if code not in camp.languages:
            out.append(((*at, "replies", code), f"reply in undeclared language {code!r}"))
    out.extend(_keyword_rules(camp, at))
    for key in sorted(RESERVED_KEYS & set(camp.extra)):
        out.append(((*at, key), f"{key} is set by the service, not by a campaign entry"))
    if camp.voice is not None:
        if flows_root is None:
            out.append(((*at, "voice", "flow"), NO_FLOWS_FOLDER))
        else:
            try:
                resolve_flow_path(flows_root, camp.voice.flow)
            except FlowPathError as exc:
                out.append(((*at, "voice", "flow"), str(exc)))
    for check in EXTRA_CHECKS:
        out.extend(check(camp, at, flows_root))
    return out


def _keyword_rules(camp: CampaignSpec, at: Path_) -> list[tuple[Path_, str]]:
    out: list[tuple[Path_, str]] = []
    for k_index, kw in enumerate(camp.keywords):
        where: Path_ = (*at, "keywords", k_index, "keyword")
        norm = normalize_keyword(kw.keyword)
        if not norm:
            out.append((where, f"keyword {kw.keyword!r} has no letters or digits"))
        elif len(kw.keyword.split()) > 1:
            out.append((where, f"keyword {kw.keyword!r} must be a single word"))
        elif len(norm) > KEYWORD_COLUMN:
            out.append((where, f"keyword {kw.keyword!r} is too long once folded"))
        if kw.language not in camp.languages:
            out.append(
                (
                    (*at, "keywords", k_index, "language"),
                    f"keyword language {kw.language.value!r} is not declared",
                )
            )
    return out


def registry_rules(
    camp: CampaignSpec, at: Path_, registry: RegistryIndex
) -> list[tuple[Path_, str]]:
    """The rules between campaigns: keywords per number, PSA codes, hotline numbers.

    An archived campaign answers nothing, so its keywords and PSA codes collide with none.
    """
    out: list[tuple[Path_, str]] = []
    for k_index, kw in enumerate([] if camp.archived else camp.keywords):
        where: Path_ = (*at, "keywords", k_index)
        norm = normalize_keyword(kw.keyword)
        if not norm:
            continue
        for number in camp.numbers:
            owner = registry.keywords.setdefault((number, norm), Owner(camp.code, where))
            if owner.where != where:
                out.append(
                    (
                        (*where, "keyword"),
                        f"keyword {kw.keyword!r} on {number} is already used by "
                        f"{owner.describe(camp.code)}",
                    )
                )
    for p_index, psa in enumerate([] if camp.archived else camp.psa_codes):
        psa_at: Path_ = (*at, "psa_codes", p_index)
        owner = registry.psa_codes.setdefault(psa, Owner(camp.code, psa_at))
        if owner.where != psa_at:
            out.append((psa_at, f"PSA code {psa} is already used by {owner.describe(camp.code)}"))
    for n_index, number in enumerate(camp.numbers):
        if number in registry.hotline_numbers:
            out.append(((*at, "numbers", n_index), f"{number} is also a shared hotline number"))
        wanted = str(camp.channels.get(number, "twilio"))
        gateway, user = registry.gateways.setdefault(number, (wanted, camp.code))
        if gateway != wanted:
            out.append(
                (
                    (*at, "channels", number),
                    f"{number} is reached through {gateway} for campaign {user}: "
                    "a number has one channel",
                )
            )
    return out
