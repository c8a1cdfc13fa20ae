"""What the campaign form shows: a document's values as form fields, with blank slots to add."""

from __future__ import annotations

from typing import Any

from outreach.web.editor.forms import LANGS, SLOTS


def _blank_message() -> dict[str, Any]:
    return {"offset": "", "at": "", "text": {}}


def form_values(doc: dict[str, Any]) -> dict[str, Any]:
    """The form's field values for a campaign document (a new campaign: an empty one)."""
    keywords: dict[str, list[str]] = {lang: [] for lang in LANGS}
    for kw in doc.get("keywords") or []:
        keywords.setdefault(str(kw.get("language")), []).append(str(kw.get("keyword")))
    raw = doc.get("followups")
    followups: dict[str, Any] = raw if isinstance(raw, dict) else {}
    series = []
    for item in [*(followups.get("series") or []), *({} for _ in range(SLOTS))]:
        stored = [m for m in (item.get("messages") or []) if isinstance(m, dict)]
        messages = [*stored, *(_blank_message() for _ in range(SLOTS))]
        series.append(
            {
                "id": item.get("id") or "",
                "offer": bool(item.get("offer_keyword_reply")),
                "messages": [
                    {
                        "offset": str(m.get("offset") or ""),
                        "at": str(m.get("at") or ""),
                        "text": dict(m.get("text") or {}),
                    }
                    for m in messages
                ],
            }
        )
    quiet = followups.get("quiet_hours") or {}
    voice = doc.get("voice") or {}
    cost = doc.get("cost")
    return {
        "code": doc.get("code") or "",
        "name": doc.get("name") or "",
        "medium": doc.get("medium") or "",
        "region": doc.get("region") or "",
        "languages": [str(lang) for lang in doc.get("languages") or []],
        "start": str(doc.get("start") or ""),
        "end": str(doc.get("end") or ""),
        "cost": "" if cost is None else str(cost),
        "currency": doc.get("currency") or "",
        "timezone": doc.get("timezone") or "",
        "numbers": "\n".join(doc.get("numbers") or []),
        "number_list": list(doc.get("numbers") or []),
        "channels": dict(doc.get("channels") or {}),
        "psa_codes": " ".join(str(p) for p in doc.get("psa_codes") or []),
        "keywords": {lang: ", ".join(words) for lang, words in keywords.items()},
        "replies": dict(doc.get("replies") or {}),
        "voice_flow": voice.get("flow") or "",
        "voice_callback": bool(voice.get("missed_call_callback")),
        "sender": followups.get("sender") or "",
        "quiet_start": quiet.get("start") or "",
        "quiet_end": quiet.get("end") or "",
        "series": series,
        "version": doc.get("version") or "",
        "archived": bool(doc.get("archived")),
    }
