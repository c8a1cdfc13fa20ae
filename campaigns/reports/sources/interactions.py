"""The interaction log as a rollup source: counts by channel, kind and keyword, and contact
presence."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.registry.enums import InteractionKind
from campaigns.registry.models import Interaction
from campaigns.reports.metrics import Metric
from campaigns.reports.sources.base import (
    CountKey,
    PeopleRow,
    TableSource,
    hour_bucket,
    hour_of,
    parse_hour,
)


class InteractionSource(TableSource):
    """Interactions: one per message or call, counted by channel, by kind and by gateway."""

    def counts(self, session: Session, start: datetime, end: datetime) -> Counter[CountKey]:
        t = Interaction
        hour = hour_bucket(session, t.created_at)
        cells = (hour, t.campaign_id, t.channel, t.language, t.kind, t.gateway)
        query = (
            select(*cells, func.count())
            .where(t.created_at >= start, t.created_at < end)
            .group_by(*cells)
        )
        out: Counter[CountKey] = Counter()
        for bucket, campaign_id, channel, language, kind, gateway, n in session.execute(query):
            cell = (parse_hour(bucket), campaign_id or 0, str(channel), language or "")
            out[(*cell, Metric.INTERACTIONS, "")] += n
            out[(*cell, Metric.KIND, str(kind))] += n
            out[(*cell, Metric.GATEWAY, str(gateway))] += n
        keyed = (hour, t.campaign_id, t.channel, t.language, t.keyword)
        texts = (
            select(*keyed, func.count()).where(*self._keyword_texts(start, end)).group_by(*keyed)
        )
        for bucket, campaign_id, channel, language, keyword, n in session.execute(texts):
            cell = (parse_hour(bucket), campaign_id or 0, str(channel), language or "")
            out[(*cell, Metric.KEYWORD, str(keyword)[:64])] += n
        return out

    def people(self, session: Session, start: datetime, end: datetime) -> Iterator[PeopleRow]:
        """Yields who sent the texts behind each keyword count (the other counts have `seen`)."""
        t = Interaction
        query = select(
            t.created_at, t.campaign_id, t.channel, t.language, t.keyword, t.contact_id
        ).where(*self._keyword_texts(start, end))
        for at, campaign_id, channel, language, keyword, contact in session.execute(
            query.execution_options(yield_per=20_000)
        ):
            cell = (campaign_id or 0, str(channel), language or "")
            yield hour_of(at), *cell, Metric.KEYWORD, str(keyword)[:64], contact

    @staticmethod
    def _keyword_texts(start: datetime, end: datetime) -> tuple[Any, ...]:
        t = Interaction
        return (
            t.created_at >= start,
            t.created_at < end,
            t.kind == InteractionKind.KEYWORD,
            t.keyword.is_not(None),
        )


def presence_rows(
    session: Session,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    low: int | None = None,
    high: int | None = None,
) -> Iterator[tuple[datetime, int, str, str, str]]:
    """Yields (time, campaign, channel, language, contact id) of interactions, oldest first."""
    t = Interaction
    query = select(t.created_at, t.campaign_id, t.channel, t.language, t.contact_id)
    if start is not None:
        query = query.where(t.created_at >= start)
    if end is not None:
        query = query.where(t.created_at < end)
    if low is not None:
        query = query.where(t.id > low)
    if high is not None:
        query = query.where(t.id <= high)
    for at, campaign_id, channel, language, contact in session.execute(
        query.order_by(t.created_at).execution_options(yield_per=20_000)
    ):
        yield at, campaign_id or 0, str(channel), language or "", contact
