"""Turns a flow file's data into typed nodes, collecting every structural issue with its place."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ivr_flows.model import Flow, Issue, Node, NodeKind, Option, Voice
from ivr_flows.parse_values import ValueParser, audio_url_ok, opt

__all__ = ["audio_url_ok", "parse_flow"]

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


class _Parser(ValueParser):
    """Reads nodes and their options; defaults for timeouts and retries come from the flow."""

    def __init__(self) -> None:
        super().__init__()
        self.timeout = 5
        self.retries = 2

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
                Option(digit, str(spec["next"]), opt(spec.get("label")), opt(value_), opt(lang))
            )
        return tuple(out)

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
