"""What the engine works with: call state, inputs, actions to render and effects to record."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any


class InputKind(StrEnum):
    START = "start"
    DIGITS = "digits"
    NO_INPUT = "no_input"
    TIMEOUT = "timeout"
    DIAL = "dial"  # the consultant leg ended; `digits` carries Twilio's DialCallStatus
    CONTINUE = "continue"  # a <Redirect> came back


class Outcome(StrEnum):
    COMPLETED = "completed"
    HUNG_UP = "hung_up"
    TRANSFERRED = "transferred"
    AFTER_HOURS = "after_hours"
    ERROR = "error"


class EffectKind(StrEnum):
    ENTERED = "entered"
    NO_INPUT = "no_input"
    INVALID = "invalid"
    WENT_ON = "went_on"
    RESULT = "result"
    LANGUAGE = "language"
    PSA_CODE = "psa_code"
    OPT_IN = "opt_in"
    TRANSFERRED = "transferred"
    AFTER_HOURS = "after_hours"
    ENDED = "ended"


@dataclass(frozen=True)
class Input:
    kind: InputKind
    digits: str = ""

    @classmethod
    def keys(cls, digits: str) -> Input:
        return cls(InputKind.DIGITS, digits) if digits else cls(InputKind.NO_INPUT)


@dataclass(frozen=True)
class EngineContext:
    """What the engine may know of the world: the time and the campaign's settings."""

    now: datetime  # aware
    timezone: str = "Asia/Baku"
    psa_codes: frozenset[str] = frozenset()
    # Follow-up series the caller can be enrolled in now (empty: none, e.g. no campaign or
    # the caller said STOP); None: not checked, every opt-in node is offered.
    opt_in_series: frozenset[str] | None = None
    # Or the same, looked up the first time an opt-in node is reached (a database read that
    # most steps do not need); used when opt_in_series is None.
    opt_in_lookup: Callable[[], frozenset[str]] | None = None

    def can_opt_in(self, series: str | None) -> bool:
        """Tells whether an opt-in to `series` (None: the campaign's first) can be honoured."""
        offered = self.opt_in_series
        if offered is None and self.opt_in_lookup is not None:
            offered = self.opt_in_lookup()
        if offered is None:
            return True
        return bool(offered) and (series is None or series in offered)


@dataclass
class CallState:
    """A call's position in its flow; JSON-serialisable so any worker can continue it."""

    node: str = ""
    language: str | None = None
    retries: int = 0
    results: dict[str, str] = field(default_factory=dict)
    psa_code: str | None = None
    path: list[str] = field(default_factory=list)
    dialing: bool = False
    after_hours: bool = False
    ended: bool = False
    outcome: str | None = None

    def to_dict(self) -> dict[str, Any]:
        # By hand: dataclasses.asdict deep-copies every value, and this runs on every step.
        return {
            "node": self.node,
            "language": self.language,
            "retries": self.retries,
            "results": dict(self.results),
            "psa_code": self.psa_code,
            "path": list(self.path),
            "dialing": self.dialing,
            "after_hours": self.after_hours,
            "ended": self.ended,
            "outcome": self.outcome,
        }

    def copy(self) -> CallState:
        """A copy the engine can change: what a step does stays off the state it was given."""
        return replace(self, results=dict(self.results), path=list(self.path))

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> CallState:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in (data or {}).items() if k in known})


@dataclass(frozen=True)
class Say:
    text: str
    voice: str
    language: str


@dataclass(frozen=True)
class Play:
    """Plays audio; `text` in `voice`/`language` is the fallback when the file is missing."""

    url: str
    text: str
    voice: str
    language: str


Speech = Say | Play


@dataclass(frozen=True)
class Gather:
    prompts: tuple[Speech, ...]
    timeout: int
    num_digits: int | None = None
    finish_on_key: str = "#"


@dataclass(frozen=True)
class Dial:
    number: str
    timeout: int


@dataclass(frozen=True)
class Hangup:
    pass


@dataclass(frozen=True)
class Reject:
    reason: str = "busy"


@dataclass(frozen=True)
class Redirect:
    pass


Action = Say | Play | Gather | Dial | Hangup | Reject | Redirect


@dataclass(frozen=True)
class Effect:
    """Something to record or act on: `node` where it happened, `data` its details."""

    kind: EffectKind
    node: str
    data: dict[str, str] = field(default_factory=dict)


@dataclass
class Step:
    actions: list[Action]
    state: CallState
    effects: list[Effect]
