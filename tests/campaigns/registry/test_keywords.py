"""Keyword matching: case, diacritics, Azerbaijani İ/ı/ə, Cyrillic and punctuation."""

from __future__ import annotations

import pytest

from campaigns.registry.keywords import (
    exact_keyword,
    first_word,
    guess_language,
    keyword_accepts,
    message_word,
    normalize_keyword,
)
from campaigns.registry.segments import count_segments


@pytest.mark.parametrize(
    ("body", "keyword"),
    [
        ("İş", "iş"),
        ("is", "iş"),
        ("IS!", "iş"),
        (" iş ", "iş"),
        ("İŞ please", "iş"),
        ("ış", "iş"),
        ("«iş»", "iş"),
        ("iş, tell me more", "iş"),
        ("Работа", "работа"),
        ("РАБОТА!!!", "работа"),
        ("работа?", "работа"),
        ("qezet", "qəzet"),
        ("QƏZET", "qəzet"),
        ("Qəzet.", "qəzet"),
        ("ВИЗА", "виза"),
        ("work", "WORK"),
        ("😀 iş", "iş"),
    ],
)
def test_body_first_word_matches_keyword(body: str, keyword: str) -> None:
    assert first_word(body) == normalize_keyword(keyword)


@pytest.mark.parametrize(
    ("body", "keyword"),
    [("işçi", "iş"), ("pa6ota", "работа"), ("visa", "виза"), ("hello iş", "iş")],
)
def test_other_words_do_not_match(body: str, keyword: str) -> None:
    assert first_word(body) != normalize_keyword(keyword)


@pytest.mark.parametrize("body", ["", "   ", "!!!", "😀😀", "\u200b"])
def test_body_without_a_word_has_no_first_word(body: str) -> None:
    assert first_word(body) == ""


def test_guess_language_reads_the_script() -> None:
    assert guess_language("привет", "az") == "ru"
    assert guess_language("salam, işim yoxdur", "en") == "az"
    assert guess_language("hello", "en") == "en"


@pytest.mark.parametrize(
    ("text", "encoding", "segments"),
    [
        ("a" * 160, "GSM-7", 1),
        ("a" * 161, "GSM-7", 2),
        ("a" * 306, "GSM-7", 2),
        ("a" * 307, "GSM-7", 3),
        ("€" * 80, "GSM-7", 1),
        ("€" * 81, "GSM-7", 2),
        ("ş" * 70, "UCS-2", 1),
        ("ş" * 71, "UCS-2", 2),
        ("д" * 134, "UCS-2", 2),
        ("д" * 135, "UCS-2", 3),
    ],
)
def test_segment_counts_follow_gsm7_and_ucs2_limits(
    text: str, encoding: str, segments: int
) -> None:
    info = count_segments(text)
    assert (info.encoding, info.segments) == (encoding, segments)


@pytest.mark.parametrize(
    ("keyword", "body", "languages", "accepted"),
    [
        ("iş", "Is this service free?", ["az", "en"], False),
        ("iş", "Is", ["az", "en"], True),
        ("iş", "iş haqqında", ["az", "en"], True),
        ("iş", "İŞ please", ["az", "en"], True),
        ("iş", "is this free", ["az", "ru"], True),
        ("qəzet", "qezet please", ["az", "en"], True),
        ("work", "work abroad", ["az", "en"], True),
    ],
)
def test_a_folded_common_word_needs_the_message_alone(
    keyword: str, body: str, languages: list[str], accepted: bool
) -> None:
    word = message_word(body)
    assert word is not None and word.folded == normalize_keyword(keyword)
    assert (
        keyword_accepts(keyword=keyword, language=languages[0], languages=languages, word=word)
        is accepted
    )


def test_exact_form_keeps_accents_and_folds_case() -> None:
    assert exact_keyword("İŞ") == exact_keyword("iş") == "iş"
    assert exact_keyword("is") != exact_keyword("iş")
    assert exact_keyword("РАБОТА!") == "работа"
