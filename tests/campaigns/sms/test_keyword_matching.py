"""Which texts reach a keyword: exact matches always, folded ones unless they are another
declared language's common word inside a longer message (campaigns/registry/keywords.py)."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree

import pytest
from sqlalchemy import select

from campaigns.registry.enums import InteractionKind
from campaigns.registry.models import Interaction
from outreach.core.context import AppContext
from tests.support.app import signed_post

FLYER = "+994502000101"  # AZ-FLYER-BAKU-2027 (az, ru, en): iş, работа, work
POSTER = "+994365440101"  # AZ-POSTER-NAKH-2027 (az, ru): viza, виза
FLYER_REPLY = "Xaricdə iş?"


def text(client: Any, body: str, to: str = FLYER) -> str:
    params = {"MessageSid": "SM" + "7" * 32, "From": "+994501234567", "To": to, "Body": body}
    response = signed_post(client, "/twilio/sms", params)
    assert response.status_code == 200, response.text
    return "".join(m.text or "" for m in ElementTree.fromstring(response.text).iter("Message"))


def kind(ctx: AppContext) -> str:
    with ctx.sessions() as session:
        return str(session.scalars(select(Interaction.kind)).one())


def test_an_english_sentence_starting_with_is_gets_the_default_reply(
    client: Any, loaded: AppContext
) -> None:
    reply = text(client, "Is this service free?")
    assert not reply.startswith(FLYER_REPLY)
    assert reply.startswith("Pulsuz, anonim məlumat üçün yazın: İŞ, QƏZET")  # the default reply
    assert kind(loaded) == InteractionKind.UNMATCHED


@pytest.mark.parametrize("body", ["is", "IS!", "Is?", " is ", "😀 is"])
def test_the_folded_word_alone_still_reaches_the_keyword(
    client: Any, loaded: AppContext, body: str
) -> None:
    assert text(client, body).startswith(FLYER_REPLY)
    assert kind(loaded) == InteractionKind.KEYWORD


@pytest.mark.parametrize("body", ["iş", "İŞ haqqında", "iş, tell me more", "IŞ please"])
def test_an_exact_match_counts_inside_a_longer_message(
    client: Any, loaded: AppContext, body: str
) -> None:
    assert text(client, body).startswith(FLYER_REPLY)


def test_a_folded_keyword_that_is_no_common_word_matches_in_a_sentence(
    client: Any, loaded: AppContext
) -> None:
    # `qəzet` folds to `qezet`, which is no English or Russian common word.
    assert text(client, "qezet haqqinda melumat").startswith("Qanuni miqrasiya")


def test_a_common_word_of_an_undeclared_language_does_not_restrict(
    client: Any, loaded: AppContext
) -> None:
    # The poster declares az and ru only; English common words do not matter to it.
    assert text(client, "VIZA lazimdir", to=POSTER).startswith("Viza:")
