"""Raw logs that feed the rollups: each source turns its rows into hourly counts.

A source knows its table (an integer id and a `created_at`), so the refresh can find the
hours touched since its high-water mark, and how to count one time span of its rows.
Sources of other features (calls, follow-ups) are appended to SOURCES where they exist.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.enums import InteractionKind
from campaigns.models import Interaction
from campaigns.reports.metrics import Metric

# (hour, campaign_id or 0, channel, language or "", metric, key) -> value
CountKey = tuple[datetime, int, str, str, str, str]


def hour_of(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


class Source(Protocol):
    @property
    def name(self) -> str: ...

    def max_id(self, session: Session) -> int: ...

    def times_between(self, session: Session, low: int, high: int) -> Iterator[datetime]: ...

    def counts(self, session: Session, start: datetime, end: datetime) -> Counter[CountKey]: ...


@dataclass(frozen=True)
class TableSource:
    """A source whose rows carry an integer `id` and a `created_at`."""

    name: str
    model: Any

    def max_id(self, session: Session) -> int:
        return int(session.scalar(select(func.max(self.model.id))) or 0)

    def times_between(self, session: Session, low: int, high: int) -> Iterator[datetime]:
        query = select(self.model.created_at).where(self.model.id > low, self.model.id <= high)
        yield from session.scalars(query.execution_options(yield_per=10_000))

    def counts(self, session: Session, start: datetime, end: datetime) -> Counter[CountKey]:
        raise NotImplementedError


class InteractionSource(TableSource):
    """Interactions: one per message or call, counted by channel and by kind."""

    def counts(self, session: Session, start: datetime, end: datetime) -> Counter[CountKey]:
        t = Interaction
        query = select(t.created_at, t.campaign_id, t.channel, t.language, t.kind).where(
            t.created_at >= start, t.created_at < end
        )
        out: Counter[CountKey] = Counter()
        for at, campaign_id, channel, language, kind in session.execute(
            query.execution_options(yield_per=20_000)
        ):
            cell = (hour_of(at), campaign_id or 0, str(channel), language or "")
            out[(*cell, Metric.INTERACTIONS, "")] += 1
            out[(*cell, Metric.KIND, str(kind))] += 1
            if kind == InteractionKind.OPT_IN:
                out[(*cell, Metric.OPT_INS, "")] += 1
            elif kind == InteractionKind.OPT_OUT:
                out[(*cell, Metric.OPT_OUTS, "")] += 1
        return out


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


SOURCES: list[Source] = [InteractionSource("interactions", Interaction)]
