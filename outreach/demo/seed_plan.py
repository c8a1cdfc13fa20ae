"""What the demo month looks like: spots and their audiences, text lines, caller behaviour."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, time
from typing import Any

from ivr_flows.actions import CallState

HOTLINE = "+994125550100"
Choice = tuple[str, str, str]  # (event name, digits, dial status)


@dataclass(frozen=True)
class Spot:
    code: str
    station: str
    number: str
    psa_code: str
    clock: time
    seconds: int
    response: float  # mean calls in the ~10 minutes after an airing
    weekdays: frozenset[int] = frozenset(range(7))

    def airs_on(self, day: date) -> bool:
        return day.weekday() in self.weekdays


@dataclass(frozen=True)
class TextLine:
    number: str
    per_hour: float
    keywords: tuple[tuple[str, float], ...]


SPOTS = (
    Spot("AZ-RADIO-IDMAN-2027", "Idman FM", "+994125550101", "101", time(8, 0), 30, 11.0),
    Spot("AZ-RADIO-ANS-2027", "ANS ChM", "+994125550102", "102", time(19, 0), 30, 7.0),
    Spot(
        "AZ-TV-ITV-2027",
        "ITV",
        "+994125550103",
        "201",
        time(20, 30),
        45,
        16.0,
        frozenset({0, 2, 4, 5}),
    ),
)
TEXT_LINES = (
    TextLine("+994502000101", 2.0, (("iş", 0.6), ("работа", 0.3), ("work", 0.1))),
    TextLine("+994502000101", 0.7, (("qəzet", 0.6), ("газета", 0.3), ("news", 0.1))),
    TextLine("+994365440101", 0.4, (("viza", 0.7), ("виза", 0.3))),
)
JUNK = ("salam", "?", "məlumat", "привет")

# Digits callers press at each kind of node, with weights; "" is no input.
KEYS: dict[str, tuple[tuple[str, float], ...]] = {
    "language": (("1", 55), ("2", 30), ("3", 10), ("", 4), ("7", 1)),
    "question": (
        ("1", 28),
        ("2", 20),
        ("3", 18),
        ("4", 14),
        ("5", 10),
        ("0", 4),
        ("", 3),
        ("8", 3),
    ),
    "menu": (("9", 35), ("2", 20), ("3", 14), ("1", 8), ("0", 4), ("", 9), ("5", 10)),
    "optin": (("1", 70), ("2", 20), ("", 10)),
}
# Chance of hanging up while at a node of each kind (the funnel's drop-off).
HANG_UP = {
    "language": 0.05,
    "question": 0.09,
    "menu": 0.22,
    "psa_code": 0.08,
    "optin": 0.1,
    "message": 0.1,
}


def _pick(rng: random.Random, options: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]


def call_choice(rng: random.Random, node: Any, state: CallState, psa: str | None) -> Choice | None:
    """Returns what the caller does at a node, or None when they hang up."""
    if node is None:
        return None
    kind = str(node.kind)
    if state.dialing:
        return ("dial", "", "completed" if rng.random() < 0.7 else "no-answer")
    if kind == "hangup" or rng.random() < HANG_UP.get(kind, 0.0):
        return None
    if kind == "psa_code":
        if psa is not None and rng.random() < 0.9:
            return ("", psa, "")
        return ("", rng.choice(["", "999", "101", "102", "201"]), "")
    if kind in KEYS:
        return ("", _pick(rng, KEYS[kind]), "")
    return ("continue", "", "")


def text_body(rng: random.Random, line: TextLine) -> str:
    """Returns a texter's message: mostly a keyword, sometimes something else."""
    if rng.random() < 0.05:
        return rng.choice(JUNK)
    word = _pick(rng, line.keywords)
    return word.upper() if rng.random() < 0.3 else word
