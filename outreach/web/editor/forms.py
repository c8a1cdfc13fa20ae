"""The campaign form: flat HTML fields to and from the campaign document (YAML entry, API body).

The form is parsed into the same document the API takes and checked by the same pydantic model
(CampaignSpec) and validator; a problem's location in the document names the form field that
shows it. Keys the form does not edit (a later feature's options) are kept from the stored
document, so saving through the browser never drops them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import FormData

from campaigns.registry.enums import Gateway, Language
from campaigns.registry.segments import count_segments

LANGS = [lang.value for lang in Language]
SLOTS = 1  # blank series and messages offered beyond those stored
_SERIES = re.compile(r"^series-(\d{1,2})-(id|offer)$")
_MESSAGE = re.compile(r"^series-(\d{1,2})-msg-(\d{1,2})-(offset|at|text-[a-z]{2})$")
_SPLIT = re.compile(r"[\s,;]+")
MANAGED = (
    "code", "name", "medium", "region", "languages", "start", "end", "cost", "currency",
    "timezone", "numbers", "keywords", "replies", "psa_codes", "voice", "followups", "channels",
)  # fmt: skip
GATEWAYS = [gateway.value for gateway in Gateway]


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _words(text: str) -> list[str]:
    return [word for word in _SPLIT.split(text) if word]


def parse(form: FormData, stored: dict[str, Any] | None) -> dict[str, Any]:
    """Builds the campaign document from a submitted form (over the stored one, if any)."""
    doc: dict[str, Any] = {k: v for k, v in (stored or {}).items() if k not in MANAGED}
    languages = [lang for lang in LANGS if form.get(f"lang-{lang}")]
    doc.update(
        code=_text(form, "code"),
        name=_text(form, "name"),
        medium=_text(form, "medium"),
        region=_text(form, "region") or None,
        languages=languages,
        start=_text(form, "start"),
        end=_text(form, "end"),
        cost=_text(form, "cost") or None,
        currency=_text(form, "currency").upper() or None,
        timezone=_text(form, "timezone") or None,
        numbers=_words(_text(form, "numbers")),
        psa_codes=_words(_text(form, "psa_codes")),
        keywords=[
            {"keyword": word, "language": lang}
            for lang in LANGS
            for word in _words(_text(form, f"keywords-{lang}"))
        ],
        replies={
            lang: _text(form, f"reply-{lang}") for lang in LANGS if _text(form, f"reply-{lang}")
        },
    )
    # Each number's channel: its own select, else the one for numbers new to the form.
    fallback = _text(form, "channel-new") or "twilio"
    doc["channels"] = {
        n: gateway
        for n in doc["numbers"]
        if (gateway := _text(form, f"channel-{n}") or fallback) != "twilio"
    }
    if version := _text(form, "version"):
        doc["version"] = int(version) if version.isdigit() else version
    flow = _text(form, "voice-flow")
    doc["voice"] = (
        {"flow": flow, "missed_call_callback": bool(form.get("voice-callback"))} if flow else None
    )
    followups = _followups(form)
    if followups is not None:
        doc["followups"] = followups
    return doc


def _followups(form: FormData) -> dict[str, Any] | None:
    series: dict[int, dict[str, Any]] = {}
    for key in form:
        if match := _SERIES.match(key):
            series.setdefault(int(match.group(1)), {"messages": {}})
        elif match := _MESSAGE.match(key):
            slot = series.setdefault(int(match.group(1)), {"messages": {}})
            slot["messages"].setdefault(int(match.group(2)), {})
    out = []
    for s_index in sorted(series):
        prefix = f"series-{s_index}"
        messages = []
        for m_index in sorted(series[s_index]["messages"]):
            at = f"{prefix}-msg-{m_index}"
            texts = {lang: _text(form, f"{at}-text-{lang}") for lang in LANGS}
            message: dict[str, Any] = {"offset": _text(form, f"{at}-offset") or "0"}
            if _text(form, f"{at}-at"):
                message["at"] = _text(form, f"{at}-at")
            message["text"] = {lang: text for lang, text in texts.items() if text}
            if message["text"]:
                messages.append(message)
        series_id = _text(form, f"{prefix}-id")
        if series_id or messages:
            offer = bool(form.get(f"{prefix}-offer"))
            out.append({"id": series_id, "offer_keyword_reply": offer, "messages": messages})
    block: dict[str, Any] = {}
    if sender := _text(form, "followups-sender"):
        block["sender"] = sender
    quiet = (_text(form, "quiet-start"), _text(form, "quiet-end"))
    if any(quiet):
        block["quiet_hours"] = {"start": quiet[0], "end": quiet[1]}
    if not out and not block:
        return None
    block["series"] = out
    return block


def field_of(loc: tuple[Any, ...], doc: dict[str, Any]) -> str:
    """The form field that shows a problem at a document location ('' for the whole form)."""
    loc = tuple(part for part in loc if part != "body")
    head = loc[0] if loc else ""
    if head == "keywords" and len(loc) > 1 and isinstance(loc[1], int):
        keywords = doc.get("keywords") or []
        if loc[1] < len(keywords):
            return f"keywords-{keywords[loc[1]].get('language')}"
        return "keywords"
    if head == "replies":
        return f"reply-{loc[1]}" if len(loc) > 1 else "replies"
    if head == "languages":
        return "languages"
    if head == "voice":
        return "voice-flow"
    if head == "channels":
        return "channels"
    if head == "followups":
        return _followup_field(loc[1:])
    return str(head) if head in MANAGED else ""


def _followup_field(loc: tuple[Any, ...]) -> str:
    if loc[:1] == ("sender",):
        return "followups-sender"
    if loc[:1] == ("quiet_hours",):
        return "quiet-start"
    if len(loc) >= 2 and loc[0] == "series" and isinstance(loc[1], int):
        prefix = f"series-{loc[1]}"
        if len(loc) >= 4 and loc[2] == "messages" and isinstance(loc[3], int):
            return f"{prefix}-msg-{loc[3]}"
        return f"{prefix}-id"
    return "followups"


@dataclass
class Feedback:
    """What the form shows next to its fields: errors, and segment counts of every text."""

    errors: dict[str, list[str]] = field(default_factory=dict)
    segments: dict[str, tuple[int, str, int]] = field(default_factory=dict)

    def add(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)


def segment_counts(form: FormData) -> dict[str, tuple[int, str, int]]:
    """Segments, encoding and units of every reply and follow-up text typed in the form."""
    out = {}
    for key, value in form.multi_items():
        if (key.startswith("reply-") or "-text-" in key) and isinstance(value, str) and value:
            info = count_segments(value.strip())
            out[key] = (info.segments, info.encoding, info.units)
    return out
