"""The registry cache: webhooks stop asking the database for campaigns, yet a campaign written
by another process (here: another engine, so another cache) answers from its next request on."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from xml.etree import ElementTree

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from campaigns.registry.cache import campaign_followups, keyword_candidates, psa_campaigns
from campaigns.registry.models import Campaign, Interaction, Keyword
from outreach.app import create_app
from outreach.core.context import AppContext
from outreach.core.db import make_engine, make_session_factory
from tests.support.app import signed_post
from tests.support.database import statements
from tests.support.voice import HOTLINE, OPEN, Caller, record

FLYER = "+994502000101"  # AZ-FLYER-BAKU-2027: iş, работа, work
OLD_REPLY = "Xaricdə iş?"
counter = iter(range(10**6))


def text(client: Any, body: str, to: str = FLYER) -> str:
    sid = "SM" + f"{next(counter):032d}"
    params = {"MessageSid": sid, "From": "+994501234567", "To": to, "Body": body}
    response = signed_post(client, "/twilio/sms", params)
    assert response.status_code == 200, response.text
    return "".join(m.text or "" for m in ElementTree.fromstring(response.text).iter("Message"))


@pytest.fixture
def other(loaded: AppContext) -> Iterator[AppContext]:
    """A second service on the same database, with its own engine and so its own cache."""
    engine = make_engine(loaded.settings.database_url)
    yield AppContext(settings=loaded.settings, engine=engine, sessions=make_session_factory(engine))
    engine.dispose()


def flyer(session: Any) -> Campaign:
    return session.scalars(select(Campaign).where(Campaign.code == "AZ-FLYER-BAKU-2027")).one()


def test_a_warm_cache_reads_no_registry_table(client: Any, loaded: AppContext) -> None:
    assert text(client, "iş").startswith(OLD_REPLY)  # warms the cache
    with statements(loaded.engine) as sent:
        assert text(client, "iş").startswith(OLD_REPLY)
        assert text(client, "nothing-matches").startswith("Pulsuz")  # the default reply
    registry = ("campaigns", "campaign_numbers", "keywords", "registry_settings")
    read = [s for s in sent if any(f"FROM {t}" in s for t in registry)]
    assert read == []
    assert any("registry_version" in s for s in sent)


def test_a_reply_changed_by_another_process_is_served_at_once(
    client: Any, loaded: AppContext, other: AppContext
) -> None:
    assert text(client, "iş").startswith(OLD_REPLY)
    with other.sessions.begin() as session:
        campaign = flyer(session)
        campaign.replies = {**campaign.replies, "az": "Yeni cavab"}
    assert text(client, "iş") == "Yeni cavab"


def test_a_keyword_added_by_another_process_matches_at_once(
    client: Any, loaded: AppContext, other: AppContext
) -> None:
    assert not text(client, "yenisöz").startswith(OLD_REPLY)
    with other.sessions.begin() as session:
        campaign = flyer(session)
        session.add(
            Keyword(campaign_id=campaign.id, keyword="yenisöz", normalized="yenisoz", language="az")
        )
    assert text(client, "yenisöz").startswith(OLD_REPLY)


def test_a_rolled_back_write_is_never_served(
    client: Any, loaded: AppContext, other: AppContext
) -> None:
    with other.sessions() as session:
        flyer(session).replies = {"az": "Geri alınan"}
        session.flush()
        # The other service caches what its own uncommitted write made, then rolls it back.
        [(_, campaign)] = keyword_candidates(session, number=FLYER, folded="is")
        assert campaign.replies["az"] == "Geri alınan"
        session.rollback()
    assert text(client, "iş").startswith(OLD_REPLY)
    app = create_app(ctx=other, migrate=False, start_background=False)
    with TestClient(app) as other_client:
        assert text(other_client, "iş").startswith(OLD_REPLY)


def news(session: Any) -> Campaign:
    return session.scalars(select(Campaign).where(Campaign.code == "AZ-NEWS-XALQ-2027")).one()


def test_psa_codes_and_follow_ups_changed_by_another_process_are_read_at_once(
    loaded: AppContext, other: AppContext
) -> None:
    with loaded.sessions() as session:
        assert "777" not in psa_campaigns(session)
        spec, first_number = campaign_followups(session, news(session).id) or (None, None)
    assert spec is not None and first_number == FLYER  # the newspaper ad offers follow-ups
    with other.sessions.begin() as session:
        campaign = news(session)
        campaign.options = {**campaign.options, "psa_codes": ["777"], "followups": None}
    with loaded.sessions() as session:
        assert psa_campaigns(session)["777"] == news(session).id
        assert campaign_followups(session, news(session).id) == (None, FLYER)


def test_a_psa_code_moved_by_another_process_attributes_the_next_voice_step(
    client: Any, loaded: AppContext, other: AppContext
) -> None:
    # A step reads the registry's token with its call row: that token, not a cached one,
    # decides whether the process's snapshot still holds.
    loaded.clock = lambda: OPEN
    call = Caller(client, HOTLINE)
    call.start()
    call.press("3")
    with other.sessions.begin() as session:
        tv = session.scalars(select(Campaign).where(Campaign.code == "AZ-TV-ITV-2027")).one()
        tv.options = {**tv.options, "psa_codes": []}
        campaign = news(session)
        campaign.options = {**campaign.options, "psa_codes": ["201"]}
        news_id = campaign.id
    call.press("201#")
    stored, _ = record(loaded, call.sid)
    assert (stored.psa_code, stored.campaign_id, stored.attribution) == ("201", news_id, "psa_code")


def last_text(ctx: AppContext) -> Interaction:
    with ctx.sessions() as session:
        row = session.scalars(select(Interaction).order_by(Interaction.id.desc())).first()
        assert row is not None
        return row


def test_a_warm_text_is_answered_and_recorded_in_one_statement(
    client: Any, loaded: AppContext
) -> None:
    assert text(client, "iş").startswith(OLD_REPLY)  # warms the cache
    with statements(loaded.engine) as sent:
        assert text(client, "iş").startswith(OLD_REPLY)
    # The registry token comes back from the row's INSERT, not from a SELECT of its own.
    assert len(sent) == 1 and sent[0].startswith("INSERT INTO interactions"), sent
    assert "FROM registry_version" in sent[0]


def test_a_text_answered_from_a_stale_cache_is_answered_and_recorded_again(
    client: Any, loaded: AppContext, other: AppContext
) -> None:
    assert text(client, "iş").startswith(OLD_REPLY)  # the cache: "iş" is the flyer's keyword
    with other.sessions.begin() as session:
        campaign = flyer(session)
        gone = select(Keyword).where(Keyword.campaign_id == campaign.id, Keyword.normalized == "is")
        for keyword in session.scalars(gone):
            session.delete(keyword)
    with statements(loaded.engine) as sent:
        reply = text(client, "iş")
    assert reply.startswith("Pulsuz")  # the default reply: "iş" is no keyword any more
    row = last_text(loaded)
    assert (row.kind, row.campaign_id, row.keyword, row.reply) == ("unmatched", None, None, reply)
    assert [s for s in sent if s.startswith("UPDATE interactions")], sent
    # The next text is answered from the new registry at once, in one statement again.
    with statements(loaded.engine) as sent:
        assert text(client, "iş") == reply
    assert len(sent) == 1, sent
