"""Reads the values inside a flow file: text, numbers, prompts and office hours."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import time
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ivr_flows.model import DAY_NAMES, Issue, OfficeHours, Prompt, PromptPart

_AUDIO_PATH = re.compile(r"^/audio/[A-Za-z0-9_\-./]+\.(wav|mp3)$")


def audio_url_ok(url: str) -> bool:
    """Tells whether an audio URL is absolute http(s) or an app-relative `/audio/...` file."""
    if url.startswith("/"):
        return bool(_AUDIO_PATH.match(url)) and ".." not in url
    parts = urlsplit(url)
    return (
        parts.scheme in ("http", "https")
        and bool(parts.netloc)
        and not any(c.isspace() for c in url)
    )


class ValueParser:
    """Reads single values (text, numbers, prompts, office hours), collecting issues."""

    def __init__(self) -> None:
        self.issues: list[Issue] = []
        self.languages: tuple[str, ...] = ()

    def add(self, where: str, message: str) -> None:
        self.issues.append(Issue(where, message))

    def text(self, value: Any, where: str) -> str | None:
        if value is None or isinstance(value, Mapping | list):
            self.add(where, "must be text")
            return None
        return str(value)

    def integer(self, value: Any, where: str, low: int, high: int, default: int) -> int:
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.add(where, f"must be a whole number from {low} to {high}")
            return default
        return value

    def prompt(self, value: Any, where: str) -> Prompt:
        if not isinstance(value, Mapping):
            self.add(where, "a prompt maps each language to {text: ...} or {audio: URL, text: ...}")
            return {}
        out: Prompt = {}
        for lang in self.languages:
            if lang not in value:
                self.add(where, f"prompt missing for language '{lang}'")
        for lang, part in value.items():
            at = f"{where}.{lang}"
            if str(lang) not in self.languages:
                self.add(at, f"language '{lang}' is not declared in `languages`")
                continue
            if isinstance(part, str):
                out[str(lang)] = PromptPart(text=part)
                continue
            if not isinstance(part, Mapping) or not part.get("text"):
                self.add(at, "needs `text` (the words, also the fallback of `audio`)")
                continue
            extra = set(part) - {"text", "audio"}
            if extra:
                self.add(at, f"unknown field(s) {sorted(extra)}")
            audio = part.get("audio")
            if audio is not None and not (isinstance(audio, str) and audio_url_ok(audio)):
                self.add(
                    f"{at}.audio", f"malformed audio URL {audio!r} (http(s)://… or /audio/….wav)"
                )
                audio = None
            out[str(lang)] = PromptPart(text=str(part["text"]), audio=audio)
        return out

    def hours(self, value: Any, where: str) -> OfficeHours | None:
        if not isinstance(value, Mapping):
            self.add(where, "office hours need {days: [mon, …], from: 'HH:MM', to: 'HH:MM'}")
            return None
        days = value.get("days", "mon-fri")
        if isinstance(days, str) and "-" in days:
            first, _, last = days.partition("-")
            names = list(DAY_NAMES)
            if first in names and last in names:
                days = names[names.index(first) : names.index(last) + 1]
        if not isinstance(days, list) or not days or any(d not in DAY_NAMES for d in days):
            self.add(f"{where}.days", f"days must be a list of {list(DAY_NAMES)} or 'mon-fri'")
            days = []
        start, end = (
            self.clock(value.get("from"), f"{where}.from"),
            self.clock(value.get("to"), f"{where}.to"),
        )
        tz = value.get("timezone")
        if tz is not None:
            try:
                ZoneInfo(str(tz))
            except (ZoneInfoNotFoundError, ValueError):
                self.add(f"{where}.timezone", f"unknown time zone {tz!r}")
                tz = None
        if start is None or end is None:
            return None
        if end <= start:
            self.add(where, "`to` must be later than `from`")
        return OfficeHours(frozenset(DAY_NAMES.index(d) for d in days), start, end, opt(tz))

    def clock(self, value: Any, where: str) -> time | None:
        try:
            hour, minute = str(value).split(":")
            return time(int(hour), int(minute))
        except (ValueError, TypeError):
            self.add(where, "must be a time like '09:00'")
            return None


def opt(value: Any) -> str | None:
    """Returns the value as text, or None when it is absent."""
    return None if value is None else str(value)
