"""The voice flow format: a flow is a map of typed nodes joined by `next`, options and fallbacks.

A flow file (YAML) looks like::

    id: radio
    languages: [az, ru, en]
    default_language: az
    voices:
      az: {voice: Google.tr-TR-Standard-A, language: tr-TR}
      ru: {voice: Polly.Tatyana, language: ru-RU}
      en: {voice: Polly.Joanna, language: en-US}
    defaults: {timeout: 6, retries: 2}
    start: welcome
    nodes:
      welcome: {kind: language, prompt: {...}, options: {"1": {language: az, next: menu}}, ...}

Every prompt maps each declared language to `{text: ...}` (spoken with `<Say>` in the
language's voice) or `{audio: URL, text: ...}` (played with `<Play>`; the text is the
transcript and the fallback). Azerbaijani fallback: no Twilio voice speaks Azerbaijani,
so Azerbaijani prompts should be audio. When an app-relative `/audio/...` file is missing
locally, the renderer speaks the Azerbaijani text with the voice declared for `az`
(a tr-TR voice: Turkish is the closest language Twilio speaks, understandable but accented).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time
from enum import StrEnum


class NodeKind(StrEnum):
    MESSAGE = "message"
    MENU = "menu"
    LANGUAGE = "language"
    QUESTION = "question"
    PSA_CODE = "psa_code"
    TRANSFER = "transfer"
    OPTIN = "optin"
    GOTO = "goto"
    HANGUP = "hangup"


# Nodes that wait for key presses (rendered as <Gather>).
GATHER_KINDS = frozenset(
    {NodeKind.MENU, NodeKind.LANGUAGE, NodeKind.QUESTION, NodeKind.PSA_CODE, NodeKind.OPTIN}
)
# Nodes that can end a call.
TERMINAL_KINDS = frozenset({NodeKind.HANGUP, NodeKind.TRANSFER})

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class PromptPart:
    """One language's version of a prompt: text to say, or audio to play (text as fallback)."""

    text: str
    audio: str | None = None


Prompt = dict[str, PromptPart]


@dataclass(frozen=True)
class Voice:
    voice: str
    language: str


@dataclass(frozen=True)
class Option:
    """A key press of a menu, language choice or question."""

    digit: str
    next: str
    label: str | None = None
    value: str | None = None
    language: str | None = None


@dataclass(frozen=True)
class OfficeHours:
    days: frozenset[int]  # 0 = Monday
    start: time
    end: time
    timezone: str | None = None


@dataclass(frozen=True)
class Node:
    id: str
    kind: NodeKind
    prompt: Prompt = field(default_factory=dict)
    next: str | None = None
    fallback: str | None = None
    options: tuple[Option, ...] = ()
    timeout: int = 5
    retries: int = 2
    invalid: Prompt = field(default_factory=dict)
    no_input: Prompt = field(default_factory=dict)
    label: str | None = None
    question_id: str | None = None
    max_digits: int = 6
    number: str | None = None
    hours: OfficeHours | None = None
    after_hours: Prompt = field(default_factory=dict)
    unavailable: Prompt = field(default_factory=dict)
    dial_timeout: int = 20
    accept: str = "1"
    confirm: Prompt = field(default_factory=dict)
    series: str | None = None

    def option(self, digit: str) -> Option | None:
        return next((o for o in self.options if o.digit == digit), None)

    def targets(self) -> list[tuple[str, str]]:
        """Returns (location suffix, node id) for every node this one can lead to."""
        out = [(f"options.{o.digit}", o.next) for o in self.options]
        if self.next is not None:
            out.append(("next", self.next))
        if self.fallback is not None:
            out.append(("fallback", self.fallback))
        return out


@dataclass(frozen=True)
class Question:
    """A question whose answers are recorded as results (FLOIP `select_one`)."""

    id: str
    label: str
    choices: tuple[tuple[str, str], ...]  # (value, label)


@dataclass(frozen=True)
class Flow:
    id: str
    languages: tuple[str, ...]
    default_language: str
    voices: dict[str, Voice]
    start: str
    nodes: dict[str, Node]
    title: str = ""
    invalid: Prompt = field(default_factory=dict)  # said before re-asking after a wrong key
    no_input: Prompt = field(default_factory=dict)  # said before re-asking when nothing came

    def node(self, node_id: str) -> Node | None:
        return self.nodes.get(node_id)

    def questions(self) -> list[Question]:
        """Returns the flow's questions in file order (for results exports)."""
        out: dict[str, Question] = {}
        for node in self.nodes.values():
            if node.kind is NodeKind.QUESTION and node.question_id:
                choices = tuple(
                    (o.value or o.digit, o.label or o.value or o.digit) for o in node.options
                )
                out.setdefault(
                    node.question_id, Question(node.question_id, node.label or "", choices)
                )
        return list(out.values())


@dataclass(frozen=True)
class Issue:
    """A problem in a flow file, at a dotted location such as `nodes.menu.options.3`."""

    location: str
    message: str
    line: int = 0

    def __str__(self) -> str:
        where = f" (line {self.line})" if self.line else ""
        return f"{self.location}{where}: {self.message}"
