"""Keyword normalisation and matching: case, diacritics, Azerbaijani İ/ı/ə and punctuation."""

from __future__ import annotations

import unicodedata

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
