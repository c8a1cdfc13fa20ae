"""Raw logs that feed the rollups: each source turns its rows into hourly counts.

A source knows its table (an integer id and a `created_at`), so the refresh can find the
hours touched since its high-water mark, and how to count one time span of its rows.
Each feature's sources live beside this module; `campaigns.reports.sources` lists them all.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

# (hour, campaign_id or 0, channel, language or "", metric, key) -> value
CountKey = tuple[datetime, int, str, str, str, str]
# (hour, campaign_id or 0, channel, language or "", metric, key, contact id): one person
# behind a count of that hour and cell.
PeopleRow = tuple[datetime, int, str, str, str, str, str]


def hour_of(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def hour_bucket(session: Session, column: Any) -> Any:
    """SQL for the UTC hour of a time column as 'YYYY-MM-DD HH', so counting is a GROUP BY."""
    if session.get_bind().dialect.name == "sqlite":
        # UTC times are stored as 'YYYY-MM-DD HH:MM:SS.ffffff' (see outreach.core.db.UTCDateTime).
        return func.substr(column, 1, 13)
    return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD HH24")


@lru_cache(maxsize=65_536)
def parse_hour(bucket: str) -> datetime:
    """Reads an hour_bucket value ('YYYY-MM-DD HH', UTC)."""
    return datetime(
        int(bucket[0:4]), int(bucket[5:7]), int(bucket[8:10]), int(bucket[11:13]), tzinfo=UTC
    )


class Source(Protocol):
    @property
    def name(self) -> str: ...

    def max_id(self, session: Session) -> int: ...

    def touched(
        self, session: Session, low: int, high: int, since: datetime | None
    ) -> Iterator[datetime]: ...

    def counts(self, session: Session, start: datetime, end: datetime) -> Counter[CountKey]: ...

    def people(self, session: Session, start: datetime, end: datetime) -> Iterator[PeopleRow]: ...


@dataclass(frozen=True)
class TableSource:
    """A source table with an integer `id`, the time its rows are counted at, and optionally
    an `updated_at` (rows that change later, like a call's duration or a delivery status)."""

    name: str
    model: Any
    time_attr: str = "created_at"
    updated_attr: str | None = None

    def max_id(self, session: Session) -> int:
        return int(session.scalar(select(func.max(self.model.id))) or 0)

    def touched(
        self, session: Session, low: int, high: int, since: datetime | None
    ) -> Iterator[datetime]:
        """Yields the count times of rows added above `low`, or changed since `since`."""
        at = getattr(self.model, self.time_attr)
        query = select(at).where(self.model.id > low, self.model.id <= high)
        yield from (t for t in session.scalars(query.execution_options(yield_per=10_000)) if t)
        if since is not None and self.updated_attr is not None:
            changed = select(at).where(getattr(self.model, self.updated_attr) >= since)
            yield from (t for t in session.scalars(changed) if t)

    def counts(self, session: Session, start: datetime, end: datetime) -> Counter[CountKey]:
        raise NotImplementedError

    def people(self, session: Session, start: datetime, end: datetime) -> Iterator[PeopleRow]:
        """Yields who is behind the counts of [start, end) (none: interactions have `seen`)."""
        yield from ()
