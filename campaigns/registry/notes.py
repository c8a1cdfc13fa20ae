"""Notes a campaign author should see (not errors): SMS segment counts and keyword folding."""

from __future__ import annotations

from campaigns.registry.keywords import folded_common_words, normalize_keyword
from campaigns.registry.schemas import CampaignSpec
from campaigns.registry.segments import count_segments
from campaigns.registry.series import parse_followups


def campaign_notes(camp: CampaignSpec) -> list[str]:
    """Segment counts of the replies and the follow-up texts, then the keyword notes."""
    notes = [
        f"{camp.code} reply [{lang}]: {count_segments(reply).describe()}"
        for lang, reply in sorted(camp.replies.items())
    ]
    followups = parse_followups(camp.extra)
    for series in followups.series if followups else []:
        for index, message in enumerate(series.messages, start=1):
            for lang, text in sorted(message.text.items()):
                notes.append(
                    f"{camp.code} follow-up {series.id} #{index} [{lang}]: "
                    f"{count_segments(text).describe()}"
                )
    return [*notes, *keyword_notes(camp)]


def keyword_notes(camp: CampaignSpec) -> list[str]:
    """Notes on keywords whose folded form is a common word of another declared language."""
    notes = []
    for kw in camp.keywords:
        norm = normalize_keyword(kw.keyword)
        others = [lang for lang in camp.languages if lang != kw.language]
        clash = [lang.value for lang in others if norm and norm in folded_common_words(lang)]
        if clash and norm != kw.keyword.casefold():
            notes.append(
                f"{camp.code} keyword {kw.keyword!r} folds to {norm!r}, a common "
                f"{'/'.join(clash)} word: without its accents it matches only a message "
                "that is that word alone"
            )
    return notes
