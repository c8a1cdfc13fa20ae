"""Factories for follow-up tests: a campaign with a series, a settable clock, a fake gateway."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from campaigns.followups.dispatcher import Dispatcher
from campaigns.followups.models import OutboxMessage
from campaigns.registry.enums import Medium
from campaigns.registry.models import Campaign, CampaignNumber
from outreach.core.context import AppContext
from outreach.core.gateway import TwilioGateway
from tests.support.fake_twilio import FakeTwilioHttp

CAMPAIGN_NUMBER = "+994502000199"
PERSON = "+994501234567"
SERIES: dict[str, Any] = {
    "series": [
        {
            "id": "info",
            "offer_keyword_reply": True,
            "messages": [
                {
                    "offset": "0",
                    "text": {
                        "az": "MİM: +994125550100",
                        "ru": "ЦМИ: +994125550100",
                        "en": "MIC: +994125550100",
                    },
                },
                {
                    "offset": "+2d",
                    "at": "10:00",
                    "text": {"az": "Yoxlama siyahısı", "ru": "Чек-лист", "en": "Checklist"},
                },
                {
                    "offset": "+7d",
                    "at": "10:00",
                    "text": {
                        "az": "Alverin əlamətləri",
                        "ru": "Признаки торговли",
                        "en": "Trafficking signs",
                    },
                },
            ],
        }
    ]
}


class Clock:
    """A clock tests move by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def baku(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A Baku wall-clock time (UTC+4, no DST) as an aware UTC datetime."""
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo("Asia/Baku")).astimezone(UTC)


def make_campaign(
    ctx: AppContext,
    *,
    code: str = "FU-TEST",
    number: str = CAMPAIGN_NUMBER,
    followups: dict[str, Any] | None = None,
) -> int:
    with ctx.sessions.begin() as session:
        campaign = Campaign(
            code=code,
            name=code,
            medium=Medium.FLYER,
            languages=["az", "ru", "en"],
            start_date=date(2027, 1, 1),
            end_date=date(2027, 12, 31),
            timezone="Asia/Baku",
            replies={"en": "Reply YES for more"},
            options={"followups": followups or SERIES},
        )
        campaign.numbers.append(CampaignNumber(number=number))
        session.add(campaign)
        session.flush()
        return campaign.id


def fake_gateway(
    ctx: AppContext, http: FakeTwilioHttp | None = None, rate: float = 0
) -> FakeTwilioHttp:
    """Installs a gateway over a fake HttpClient in the context; returns the fake."""
    http = http or FakeTwilioHttp()
    ctx.gateway = TwilioGateway(
        account_sid=ctx.settings.twilio_account_sid,
        auth_token=ctx.settings.twilio_auth_token,
        http_client=http,
        rate_per_second=rate,
        sleep=lambda _s: None,
    )
    return http


def outbox(ctx: AppContext) -> list[OutboxMessage]:
    with ctx.sessions() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def dispatch(ctx: AppContext) -> Any:
    return Dispatcher(ctx).run_until_idle()
