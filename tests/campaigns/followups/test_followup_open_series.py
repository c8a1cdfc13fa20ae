"""open_series offers a voice opt-in only when opt_in could send it: same sender rule."""

from __future__ import annotations

from typing import Any

from campaigns.followups.enrol import open_series, opt_in
from campaigns.registry.enums import Channel
from campaigns.registry.models import Campaign
from outreach.core.context import AppContext
from tests.support.followups import PERSON, SERIES, baku, make_campaign

NOW = baku(2027, 3, 1, 15, 0)
SERIES_SENDER = "+994502000177"
DIALED = "+994502000155"


def _without_numbers(ctx: AppContext, followups: dict[str, Any] = SERIES) -> int:
    campaign_id = make_campaign(ctx, code="NO-NUMBER", followups=followups)
    with ctx.sessions.begin() as session:
        campaign = session.get(Campaign, campaign_id)
        assert campaign is not None
        campaign.numbers.clear()
    return campaign_id


def _open(ctx: AppContext, campaign_id: int, sender: str | None = None) -> frozenset[str]:
    with ctx.sessions() as session:
        return open_series(
            session, campaign_id=campaign_id, contact_id=ctx.contact_id(PERSON), sender=sender
        )


def _opt_in_reason(ctx: AppContext, campaign_id: int, sender: str | None = None) -> str:
    with ctx.sessions.begin() as session:
        result = opt_in(
            session,
            ctx,
            campaign_id=campaign_id,
            number=PERSON,
            language="en",
            channel=Channel.VOICE,
            now=NOW,
            sender=sender,
        )
        return result.reason


def test_a_campaign_without_any_sender_number_is_not_offered(ctx: AppContext) -> None:
    campaign_id = _without_numbers(ctx)
    assert _open(ctx, campaign_id) == frozenset()
    assert _opt_in_reason(ctx, campaign_id) == "no_sender"


def test_a_series_sender_makes_a_numberless_campaign_offered(ctx: AppContext) -> None:
    campaign_id = _without_numbers(ctx, {**SERIES, "sender": SERIES_SENDER})
    assert _open(ctx, campaign_id) == frozenset({"info"})
    assert _opt_in_reason(ctx, campaign_id) == "enrolled"


def test_the_dialed_number_makes_a_numberless_campaign_offered(ctx: AppContext) -> None:
    campaign_id = _without_numbers(ctx)
    assert _open(ctx, campaign_id, sender=DIALED) == frozenset({"info"})
    assert _opt_in_reason(ctx, campaign_id, sender=DIALED) == "enrolled"


def test_a_campaign_with_its_own_number_is_offered(ctx: AppContext) -> None:
    campaign_id = make_campaign(ctx)
    assert _open(ctx, campaign_id) == frozenset({"info"})
