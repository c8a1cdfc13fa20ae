"""Validation of a campaigns file: every error with its location, and reply segment counts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from campaigns.registry.keywords import normalize_keyword
from campaigns.registry.schemas import CampaignFile, CampaignSpec
from campaigns.registry.segments import count_segments
from campaigns.registry.series import campaign_check as followups_check
from campaigns.registry.yamlmap import Path_, YamlSourceError, format_path, line_of, load_with_lines
from ivr_flows.campaign_check import voice_flow_check
from ivr_flows.loader import check_file


@dataclass(frozen=True)
class Problem:
    path: str
    line: int
    message: str

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


# Checks that later features add (a voice flow exists, follow-up series are complete…).
# Each gets (campaign spec, its index path, the file's directory) and yields (path, message).
CampaignCheck = Callable[[CampaignSpec, Path_, Path], list[tuple[Path_, str]]]
EXTRA_CHECKS: list[CampaignCheck] = [followups_check, voice_flow_check]


def validate_file(path: Path) -> Report:
    """Validates a campaigns YAML file and returns every problem found."""
    report = Report(source=path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        report.problems.append(Problem("(file)", 0, f"cannot read: {exc.strerror}"))
        return report
    return validate_text(text, path, report)


def validate_text(text: str, path: Path, report: Report | None = None) -> Report:
    report = report or Report(source=path)
    try:
        data, lines = load_with_lines(text)
    except YamlSourceError as exc:
        report.problems.append(Problem("(file)", 0, str(exc)))
        return report

    def add(where: Path_, message: str) -> None:
        report.problems.append(Problem(format_path(where), line_of(lines, where), message))

    if not isinstance(data, dict):
        add((), "the file must be a mapping with `campaigns:` (and optionally `hotlines:`)")
        return report
    try:
        parsed = CampaignFile.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            add(tuple(err["loc"]), _message(err))
        return report
    report.parsed = parsed
    _cross_checks(parsed, add, path.parent)
    for camp in parsed.campaigns:
        for lang, reply in sorted(camp.replies.items()):
            seg = count_segments(reply)
            report.notes.append(f"{camp.code} reply [{lang}]: {seg.describe()}")
    return report


def _message(err: Any) -> str:
    msg = str(err.get("msg", "invalid"))
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if err.get("type") == "enum":
        msg = f"{msg} (got {err.get('input')!r})"
    return msg


def _cross_checks(parsed: CampaignFile, add: Callable[[Path_, str], None], base: Path) -> None:
    seen_codes: dict[str, int] = {}
    # (number, normalised keyword) -> (campaign code, path) of the first owner
    owners: dict[tuple[str, str], tuple[str, Path_]] = {}
    hotline_numbers = {h.number for h in parsed.hotlines}
    for index, camp in enumerate(parsed.campaigns):
        at: Path_ = ("campaigns", index)
        if camp.code in seen_codes:
            add(
                (*at, "code"),
                f"duplicate campaign code {camp.code!r} (also campaigns[{seen_codes[camp.code]}])",
            )
        seen_codes.setdefault(camp.code, index)
        if camp.end < camp.start:
            add((*at, "end"), f"date range ends ({camp.end}) before it starts ({camp.start})")
        if camp.keywords and not camp.numbers:
            add((*at, "numbers"), "keywords need at least one number to be texted")
        for lang in camp.languages:
            if camp.keywords and not (camp.replies.get(lang) or "").strip():
                add((*at, "replies"), f"reply missing for declared language {lang!r}")
        for lang in camp.replies:
            if lang not in camp.languages:
                add((*at, "replies", lang), f"reply in undeclared language {lang!r}")
        for k_index, kw in enumerate(camp.keywords):
            where: Path_ = (*at, "keywords", k_index)
            norm = normalize_keyword(kw.keyword)
            if not norm:
                add((*where, "keyword"), f"keyword {kw.keyword!r} has no letters or digits")
                continue
            if kw.language not in camp.languages:
                add((*where, "language"), f"keyword language {kw.language!r} is not declared")
            for number in camp.numbers:
                first = owners.get((number, norm))
                if first is None:
                    owners[(number, norm)] = (camp.code, where)
                    continue
                other = "this campaign" if first[0] == camp.code else f"campaign {first[0]}"
                add(
                    (*where, "keyword"),
                    f"keyword {kw.keyword!r} on {number} is already used by {other} "
                    f"({format_path(first[1])})",
                )
        if camp.voice is not None and not (base / camp.voice.flow).is_file():
            add((*at, "voice", "flow"), f"voice flow file {camp.voice.flow!r} not found")
        for n_index, number in enumerate(camp.numbers):
            if number in hotline_numbers:
                add((*at, "numbers", n_index), f"{number} is also a shared hotline number")
        for check in EXTRA_CHECKS:
            for where, message in check(camp, at, base):
                add(where, message)
    for index, hotline in enumerate(parsed.hotlines):
        if hotline.flow is None:
            continue
        flow_at: Path_ = ("hotlines", index, "flow")
        if not (base / hotline.flow).is_file():
            add(flow_at, f"voice flow file {hotline.flow!r} not found")
            continue
        for issue in check_file(base / hotline.flow)[1]:
            add(flow_at, f"{hotline.flow}: {issue}")
