"""Turns a flow file's data into typed nodes, collecting every structural issue with its place."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import time
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ivr_flows.model import (
    DAY_NAMES,
    Flow,
    Issue,
    Node,
    NodeKind,
    OfficeHours,
    Option,
    Prompt,
    PromptPart,
    Voice,
)

_AUDIO_PATH = re.compile(r"^/audio/[A-Za-z0-9_\-./]+\.(wav|mp3)$")
_DIGITS = re.compile(r"^[0-9*#]{1,4}$")
_NUMBER = re.compile(r"^\+?[0-9]{3,15}$")
_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]{0,63}$")

_TOP = {"id", "title", "languages", "default_language", "voices", "defaults", "invalid"} | {
    "no_input",
    "start",
    "nodes",
}
_COMMON = {"kind", "label"}
_GATHER = {"prompt", "timeout", "retries", "invalid", "no_input", "fallback"}
_ALLOWED: dict[NodeKind, set[str]] = {
    NodeKind.MESSAGE: {"prompt", "next"},
    NodeKind.MENU: _GATHER | {"options"},
    NodeKind.LANGUAGE: _GATHER | {"options"},
    NodeKind.QUESTION: _GATHER | {"options", "question_id"},
    # No input at a code entry goes straight on (no re-prompt), so it takes no `no_input`.
    NodeKind.PSA_CODE: (_GATHER - {"no_input"}) | {"next", "max_digits"},
    NodeKind.TRANSFER: {"prompt", "number", "hours", "after_hours", "unavailable", "next"}
    | {"dial_timeout"},
    NodeKind.OPTIN: {"prompt", "timeout", "retries", "no_input", "next", "accept", "confirm"}
    | {"series"},
    NodeKind.GOTO: {"next"},
    NodeKind.HANGUP: {"prompt"},
}
_REQUIRED: dict[NodeKind, set[str]] = {
    NodeKind.MESSAGE: {"prompt", "next"},
    NodeKind.MENU: {"prompt", "options", "fallback"},
    NodeKind.LANGUAGE: {"prompt", "options", "fallback"},
    NodeKind.QUESTION: {"prompt", "options", "fallback", "question_id"},
    NodeKind.PSA_CODE: {"prompt", "next", "fallback"},
    NodeKind.TRANSFER: {"number", "hours", "after_hours", "next"},
    NodeKind.OPTIN: {"prompt", "next"},
    NodeKind.GOTO: {"next"},
    NodeKind.HANGUP: set(),
}


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


class _Parser:
    def __init__(self) -> None:
        self.issues: list[Issue] = []
        self.languages: tuple[str, ...] = ()
        self.timeout = 5
        self.retries = 2

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

    def options(self, value: Any, where: str, kind: NodeKind) -> tuple[Option, ...]:
        if not isinstance(value, Mapping) or not value:
            self.add(where, "options map key presses to nodes, e.g. {'1': legal}")
            return ()
        out: list[Option] = []
        for raw_digit, spec in value.items():
            digit, at = str(raw_digit), f"{where}.{raw_digit}"
            if not _DIGITS.match(digit):
                self.add(at, f"'{digit}' is not a key press (0-9, * or #, up to 4)")
            if isinstance(spec, str):
                spec = {"next": spec}
            if not isinstance(spec, Mapping) or not isinstance(spec.get("next"), str):
                self.add(at, "needs `next` (a node id)")
                continue
            extra = set(spec) - {"next", "label", "value", "language"}
            if extra:
                self.add(at, f"unknown field(s) {sorted(extra)}")
            lang = spec.get("language")
            if kind is NodeKind.LANGUAGE and lang not in self.languages:
                self.add(
                    f"{at}.language", f"must be one of the flow's languages {list(self.languages)}"
                )
            if kind is NodeKind.QUESTION and not spec.get("value"):
                self.add(f"{at}.value", "a question's option needs the `value` it records")
            value_ = spec.get("value")
            out.append(
                Option(digit, str(spec["next"]), _opt(spec.get("label")), _opt(value_), _opt(lang))
            )
        return tuple(out)

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
        return OfficeHours(frozenset(DAY_NAMES.index(d) for d in days), start, end, _opt(tz))

    def clock(self, value: Any, where: str) -> time | None:
        try:
            hour, minute = str(value).split(":")
            return time(int(hour), int(minute))
        except (ValueError, TypeError):
            self.add(where, "must be a time like '09:00'")
            return None

    def node(self, node_id: str, spec: Any) -> Node | None:
        where = f"nodes.{node_id}"
        if not _ID.match(node_id):
            self.add(where, "node ids are letters, digits, _ and - (starting with a letter)")
        if not isinstance(spec, Mapping):
            self.add(where, "a node is a mapping with `kind`")
            return None
        try:
            kind = NodeKind(str(spec.get("kind")))
        except ValueError:
            self.add(f"{where}.kind", f"kind must be one of {[k.value for k in NodeKind]}")
            return None
        for key in sorted(set(spec) - _ALLOWED[kind] - _COMMON):
            self.add(f"{where}.{key}", f"unknown field for a {kind} node")
        for key in sorted(_REQUIRED[kind] - set(spec)):
            self.add(where, f"a {kind} node needs `{key}`")
        fields: dict[str, Any] = {"id": node_id, "kind": kind}
        for key in ("prompt", "invalid", "no_input", "after_hours", "unavailable", "confirm"):
            if key in spec:
                fields[key] = self.prompt(spec[key], f"{where}.{key}")
        for key in ("next", "fallback", "label", "question_id", "series"):
            if key in spec:
                fields[key] = self.text(spec[key], f"{where}.{key}")
        if "options" in spec:
            fields["options"] = self.options(spec["options"], f"{where}.options", kind)
        fields["timeout"] = self.integer(
            spec.get("timeout"), f"{where}.timeout", 1, 60, self.timeout
        )
        fields["retries"] = self.integer(
            spec.get("retries"), f"{where}.retries", 0, 9, self.retries
        )
        fields["max_digits"] = self.integer(spec.get("max_digits"), f"{where}.max_digits", 1, 12, 6)
        fields["dial_timeout"] = self.integer(
            spec.get("dial_timeout"), f"{where}.dial_timeout", 5, 120, 20
        )
        if "number" in spec and not _NUMBER.match(str(spec["number"])):
            self.add(f"{where}.number", "must be a phone number like +994125550199")
        elif "number" in spec:
            fields["number"] = str(spec["number"])
        if "hours" in spec:
            fields["hours"] = self.hours(spec["hours"], f"{where}.hours")
        if "accept" in spec:
            fields["accept"] = str(spec["accept"])
        return Node(**fields)


def _opt(value: Any) -> str | None:
    return None if value is None else str(value)


def parse_flow(data: Mapping[str, Any]) -> tuple[Flow | None, list[Issue]]:
    """Builds a Flow from parsed YAML; returns it (None if unusable) and the issues found."""
    p = _Parser()
    for key in sorted(str(k) for k in data):
        if key not in _TOP and not key.startswith("x-"):
            p.add(key, "unknown field (use an `x-` prefix for anchors and notes)")
    languages = data.get("languages")
    if not isinstance(languages, list) or not languages:
        p.add("languages", "list the flow's languages, e.g. [az, ru, en]")
        languages = []
    p.languages = tuple(str(lang) for lang in languages)
    default = str(data.get("default_language") or (p.languages[0] if p.languages else ""))
    if p.languages and default not in p.languages:
        p.add("default_language", f"'{default}' is not one of the flow's languages")
    voices: dict[str, Voice] = {}
    raw_voices = data.get("voices") or {}
    for lang in p.languages:
        spec = raw_voices.get(lang) if isinstance(raw_voices, Mapping) else None
        if not isinstance(spec, Mapping) or not spec.get("voice") or not spec.get("language"):
            p.add(f"voices.{lang}", "needs {voice: …, language: …} (e.g. Polly.Tatyana, ru-RU)")
            continue
        voices[lang] = Voice(str(spec["voice"]), str(spec["language"]))
    defaults = data.get("defaults") or {}
    if isinstance(defaults, Mapping):
        p.timeout = p.integer(defaults.get("timeout"), "defaults.timeout", 1, 60, 5)
        p.retries = p.integer(defaults.get("retries"), "defaults.retries", 0, 9, 2)
    invalid = p.prompt(data["invalid"], "invalid") if "invalid" in data else {}
    no_input = p.prompt(data["no_input"], "no_input") if "no_input" in data else {}
    raw_nodes = data.get("nodes")
    if not isinstance(raw_nodes, Mapping) or not raw_nodes:
        p.add("nodes", "a flow needs a `nodes` mapping")
        raw_nodes = {}
    nodes = {str(k): n for k, v in raw_nodes.items() if (n := p.node(str(k), v)) is not None}
    flow_id, start = data.get("id"), data.get("start")
    if not flow_id:
        p.add("id", "a flow needs an `id`")
    if not isinstance(start, str):
        p.add("start", "a flow needs a `start` node")
    if not flow_id or not isinstance(start, str) or not p.languages:
        return None, p.issues
    flow = Flow(
        id=str(flow_id),
        languages=p.languages,
        default_language=default,
        voices=voices,
        start=start,
        nodes=nodes,
        title=str(data.get("title") or ""),
        invalid=invalid,
        no_input=no_input,
    )
    return flow, p.issues
