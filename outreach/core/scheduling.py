"""Background jobs as data, and the ledger that lets one process run each tick.

Each domain declares its jobs in its own `tasks.py` (a `Job`: a name, a trigger, `run(ctx)`);
`outreach/jobs.py` runs them all on one scheduler, in the service or in `outreach worker`.

A job's tick is the start of the scheduled slot a run falls in, in epoch milliseconds (so a
changed interval never moves it back). Every process fires on the same slots; before running,
a process moves the job's `job_runs` row to the tick with one conditional UPDATE
(`WHERE last_tick < :tick`). The database lets exactly one UPDATE match, on PostgreSQL and
SQLite alike, and only that process runs the tick.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, String, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Mapped, mapped_column

from outreach.core.context import AppContext
from outreach.core.db import Base

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
NEVER = -1  # the tick of a job that never ran


def epoch_ms(moment: datetime) -> int:
    """Returns an aware datetime as whole milliseconds since the epoch (exact)."""
    return (moment - EPOCH) // _MS


def tick_label(tick: int) -> str:
    """A tick as the UTC time of its slot, for logs (digit runs there are masked as numbers)."""
    return (EPOCH + tick * _MS).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class Every:
    """Every `seconds`, on slots aligned to the epoch, so all processes share the same slots."""

    seconds: float

    @property
    def period_ms(self) -> int:
        return max(1, round(self.seconds * 1000))

    def tick(self, now: datetime) -> int:
        """Returns the start of the slot `now` falls in (epoch ms)."""
        ms = epoch_ms(now)
        return ms - ms % self.period_ms


@dataclass(frozen=True)
class DailyAt:
    """Once a day at `hour:minute` local time in `timezone`."""

    hour: int
    minute: int
    timezone: str

    def tick(self, now: datetime) -> int:
        """Returns the most recent hour:minute local time at or before `now` (epoch ms)."""
        zone = ZoneInfo(self.timezone)
        local = now.astimezone(zone)
        at = time(self.hour, self.minute)
        day = local.date() if local.time() >= at else local.date() - timedelta(days=1)
        return epoch_ms(datetime.combine(day, at, zone))


Trigger = Every | DailyAt


@dataclass(frozen=True)
class Job:
    """A background job: what `outreach/jobs.py` schedules, once per tick across processes."""

    name: str
    trigger: Trigger
    run: Callable[[AppContext], object]
    at_start: bool = False  # also run when the scheduler starts (a restart catches up at once)


class JobRun(Base):
    """The last tick each job was claimed for, and how its last run went (one row a job)."""

    __tablename__ = "job_runs"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_tick: Mapped[int] = mapped_column(BigInteger, default=NEVER)
    last_started_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    # The exception's class only: a message could carry something personal.
    last_error: Mapped[str | None] = mapped_column(String(255))


def _insert_missing(conn: Connection, name: str) -> None:
    """Creates the job's row unless it exists (safe when several processes race to it)."""
    dialect = {"postgresql": postgresql, "sqlite": sqlite}.get(conn.dialect.name)
    if dialect is None:
        raise RuntimeError(f"job runs need PostgreSQL or SQLite, not {conn.dialect.name}")
    stmt = dialect.insert(JobRun).values(name=name, last_tick=NEVER)
    conn.execute(stmt.on_conflict_do_nothing(index_elements=["name"]))


def claim(engine: Engine, name: str, tick: int, *, now: datetime) -> bool:
    """Claims the job's tick for this process; False when another process already has it."""
    with engine.begin() as conn:
        _insert_missing(conn, name)
        result = conn.execute(
            update(JobRun)
            .where(JobRun.name == name, JobRun.last_tick < tick)
            .values(last_tick=tick, last_started_at=now)
        )
        return int(result.rowcount) == 1


def record(engine: Engine, name: str, *, now: datetime, error: str | None = None) -> None:
    """Records how a run ended: its success time, or the class of its error."""
    values: dict[str, object] = {"last_error": error[:255] if error else None}
    if error is None:
        values["last_success_at"] = now
    with engine.begin() as conn:
        _insert_missing(conn, name)
        conn.execute(update(JobRun).where(JobRun.name == name).values(**values))


def record_start(engine: Engine, name: str, *, now: datetime) -> None:
    """Records a run started outside the tick claim (`outreach worker --once`)."""
    with engine.begin() as conn:
        _insert_missing(conn, name)
        conn.execute(update(JobRun).where(JobRun.name == name).values(last_started_at=now))
