"""Keyword normalisation and matching: case, diacritics, Azerbaijani İ/ı/ə and punctuation.

A message's first word is compared with a keyword in two forms:
- exact: NFKC, case-folded (İ → i), punctuation dropped, accents kept ("iş" ≠ "is");
- folded: the exact form with accents and look-alike letters folded ("iş" → "is").
An exact match always counts. A folded-only match counts too, unless the keyword's folded form
is a common word (a stop word) of another language its campaign declares: then it counts only
when the message is that word alone. So "is" or "IS!" still reaches the Azerbaijani keyword
`iş`, but "Is this service free?" does not.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from stop_words import LANGUAGE_MAPPING, get_stop_words

# Letters without a Unicode decomposition that people type as their plain Latin cousin.
_FOLD = str.maketrans({"ı": "i", "ə": "e", "Ə": "e", "ß": "ss", "ø": "o", "ł": "l", "ё": "е"})


def normalize_keyword(text: str) -> str:
    """Returns the comparable form of a word: NFKD, no combining marks, casefolded, folded."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    folded = stripped.casefold().translate(_FOLD)
    # casefold can reintroduce combining marks (İ → i̇); strip them once more.
    folded = "".join(
        ch for ch in unicodedata.normalize("NFKD", folded) if not unicodedata.combining(ch)
    )
    return "".join(ch for ch in folded if ch.isalnum())


def exact_keyword(text: str) -> str:
    """Returns the exact comparable form: NFKC, case-folded (Turkic İ as i), accents kept."""
    lowered = unicodedata.normalize("NFKC", text).replace("İ", "i").casefold()
    composed = unicodedata.normalize("NFC", lowered.replace("i\u0307", "i"))
    return "".join(ch for ch in composed if ch.isalnum())


@dataclass(frozen=True)
class MessageWord:
    """A message's first word in both forms, and whether the message has no other word."""

    exact: str
    folded: str
    alone: bool


def message_word(body: str) -> MessageWord | None:
    """Returns the first word of a message body (None when it has none)."""
    words = [token for token in (body or "").split() if normalize_keyword(token)]
    if not words:
        return None
    first = words[0]
    return MessageWord(exact_keyword(first), normalize_keyword(first), alone=len(words) == 1)


@lru_cache(maxsize=32)
def folded_common_words(language: str) -> frozenset[str]:
    """Folded forms of a language's stop words (empty for a language without a list)."""
    if language not in LANGUAGE_MAPPING:
        return frozenset()
    return frozenset(filter(None, (normalize_keyword(w) for w in get_stop_words(language))))


@lru_cache(maxsize=4096)
def keyword_forms(keyword: str) -> tuple[str, str]:
    """(exact, folded) forms of a campaign keyword, kept: keywords are few and change rarely.

    For campaign keywords only, never a message's words (a cache would keep what people wrote).
    """
    return exact_keyword(keyword), normalize_keyword(keyword)


def keyword_accepts(
    *, keyword: str, language: str, languages: Iterable[str], word: MessageWord
) -> bool:
    """Whether a keyword whose folded form equals the word's answers this message."""
    exact, folded = keyword_forms(keyword)
    if exact == word.exact or word.alone:
        return True
    others = [str(other) for other in languages if other != language]
    return not any(folded in folded_common_words(other) for other in others)


def first_word(body: str) -> str:
    """Returns the normalised first word of a message body ('' when there is none)."""
    for token in (body or "").split():
        word = normalize_keyword(token)
        if word:
            return word
    return ""


def guess_language(body: str, default: str) -> str:
    """Guesses the language of a short text from its script, for the default reply."""
    for ch in body or "":
        if "\u0400" <= ch <= "\u04ff":
            return "ru"
        if ch in "əƏışŞğĞçÇöÖüÜİ":
            return "az"
    return default


def display_upper(word: str, language: str) -> str:
    """Upper-cases a keyword for display; Azerbaijani and Turkish keep i→İ and ı→I."""
    if language in ("az", "tr"):
        word = word.replace("i", "İ").replace("ı", "I")
    return word.upper()
