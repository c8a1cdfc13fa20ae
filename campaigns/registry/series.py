"""The `followups:` block of a campaign in the YAML file, and its validation."""

from __future__ import annotations

import re
from datetime import time, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from outreach.core.privacy import is_valid_number, normalize_number

_OFFSET = re.compile(r"^\+?\s*(\d{1,4})\s*([mhdw]?)$")
_UNITS = {"": 0, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
MAX_MESSAGES = 20
MAX_TEXT = 1600

Location = tuple[str | int, ...]


def parse_offset(text: str) -> timedelta:
    """Parses "0", "+30m", "+2h", "+2d" or "+1w" into a delay after the opt-in."""
    match = _OFFSET.match(str(text).strip().lower())
    if match is None:
        raise ValueError(f"offset {text!r} must look like 0, +30m, +2h, +2d or +1w")
    amount, unit = int(match.group(1)), match.group(2)
    if amount and not unit:
        raise ValueError(f"offset {text!r} needs a unit: m, h, d or w")
    return timedelta(seconds=amount * _UNITS[unit])


def parse_clock(text: str) -> time:
    """Parses a local wall-clock time "HH:MM"."""
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", str(text).strip())
    if match is None or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise ValueError(f"time {text!r} must be HH:MM (00:00-23:59)")
    return time(int(match.group(1)), int(match.group(2)))


class MessageSpec(BaseModel):
    """One message of a series: when (offset after opt-in, optional local time) and what."""

    model_config = ConfigDict(extra="forbid")

    offset: str = "0"
    at: str | None = None
    text: dict[str, str]

    @field_validator("offset", mode="before")
    @classmethod
    def _offset(cls, value: Any) -> str:
        parse_offset(str(value))
        return str(value)

    @field_validator("at", mode="before")
    @classmethod
    def _at(cls, value: Any) -> str | None:
        if value is None:
            return None
        # YAML 1.1 reads an unquoted 10:00 as the integer 600 (sexagesimal); accept it.
        text = f"{value // 60:02d}:{value % 60:02d}" if isinstance(value, int) else str(value)
        parse_clock(text)
        return text

    @field_validator("text")
    @classmethod
    def _text(cls, value: dict[str, str]) -> dict[str, str]:
        for lang, body in value.items():
            if not str(body).strip():
                raise ValueError(f"text for {lang!r} is empty")
            if len(body) > MAX_TEXT:
                raise ValueError(f"text for {lang!r} is longer than {MAX_TEXT} characters")
        return value

    @property
    def delay(self) -> timedelta:
        return parse_offset(self.offset)

    @property
    def local_time(self) -> time | None:
        return parse_clock(self.at) if self.at else None


class SeriesSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    # A YES after this campaign's keyword reply enrols the texter in this series.
    offer_keyword_reply: bool = False
    messages: list[MessageSpec] = Field(min_length=1, max_length=MAX_MESSAGES)


class QuietHoursSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: str
    end: str

    @field_validator("start", "end", mode="before")
    @classmethod
    def _clock(cls, value: Any) -> str:
        text = f"{value // 60:02d}:{value % 60:02d}" if isinstance(value, int) else str(value)
        parse_clock(text)
        return text


class FollowupsSpec(BaseModel):
    """A campaign's follow-up block: its series, and optionally a sender and quiet hours."""

    model_config = ConfigDict(extra="forbid")

    sender: str | None = None
    quiet_hours: QuietHoursSpec | None = None
    series: list[SeriesSpec] = Field(min_length=1)

    @field_validator("sender")
    @classmethod
    def _sender(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not is_valid_number(value):
            raise ValueError(f"invalid sender number {value!r} (use E.164)")
        return normalize_number(value) or value

    def find(self, series_id: str | None) -> SeriesSpec | None:
        """Returns the series with this id, or the first one when no id is given."""
        if series_id is None:
            return self.series[0]
        return next((s for s in self.series if s.id == series_id), None)


def parse_followups(options: dict[str, Any]) -> FollowupsSpec | None:
    """Reads a campaign's stored options; None when it has no (valid) follow-ups."""
    raw = options.get("followups")
    if not raw:
        return None
    try:
        return FollowupsSpec.model_validate(raw)
    except ValidationError:
        return None


def validate_followups(entry: dict[str, Any], languages: list[str]) -> list[tuple[Location, str]]:
    """Checks a campaign entry's `followups:` block; returns (location, message) problems."""
    raw = entry.get("followups")
    if raw is None:
        return []
    base: Location = ("followups",)
    problems: list[tuple[Location, str]] = []
    try:
        spec = FollowupsSpec.model_validate(raw)
    except ValidationError as exc:
        problems.extend((base + tuple(e["loc"]), _message(e)) for e in exc.errors())
    else:
        if spec.quiet_hours and spec.quiet_hours.start == spec.quiet_hours.end:
            problems.append(((*base, "quiet_hours"), "quiet hours start and end are the same"))
    # The per-language and order checks also run on a block with other errors.
    series_list = raw.get("series") if isinstance(raw, dict) else None
    seen: set[str] = set()
    for s_index, series in enumerate(series_list if isinstance(series_list, list) else []):
        if not isinstance(series, dict):
            continue
        at: Location = (*base, "series", s_index)
        if series.get("id") in seen:
            problems.append(((*at, "id"), f"duplicate series id {series.get('id')!r}"))
        seen.add(str(series.get("id")))
        messages = series.get("messages")
        problems.extend(
            _message_checks(messages if isinstance(messages, list) else [], at, languages)
        )
    return problems


def _message_checks(
    messages: list[Any], at: Location, languages: list[str]
) -> list[tuple[Location, str]]:
    problems: list[tuple[Location, str]] = []
    previous = timedelta(0)
    for m_index, message in enumerate(messages):
        if not isinstance(message, dict):
            continue
        where: Location = (*at, "messages", m_index)
        text = message.get("text")
        if isinstance(text, dict):
            for lang in languages:
                if lang not in text:
                    problems.append(((*where, "text"), f"text missing for language {lang!r}"))
            for lang in text:
                if lang not in languages:
                    problems.append(
                        ((*where, "text", lang), f"text in undeclared language {lang!r}")
                    )
        try:
            delay = parse_offset(str(message.get("offset", "0")))
        except ValueError:
            continue  # reported by the schema
        if delay < previous:
            problems.append(((*where, "offset"), "offsets must not go backwards"))
        previous = delay
    return problems


def _message(err: Any) -> str:
    msg = str(err.get("msg", "invalid"))
    return msg.removeprefix("Value error, ")


def campaign_check(camp: Any, at: Location, _base: Any) -> list[tuple[Location, str]]:
    """Adapts validate_followups to the registry's per-campaign check hook."""
    problems = validate_followups(camp.extra, [str(lang) for lang in camp.languages])
    return [((*at, *loc), message) for loc, message in problems]
