"""Incremental hourly rollups that reports read instead of the raw log.

How the numbers stay exact:
- Additive numbers (interactions, calls, seconds, funnel steps, topics, opt-ins ...) live in
  `rollup_counts`, one row per UTC hour x campaign x channel x language x metric x key: the
  unit of incremental recomputation. Each touched local day is then summed into
  `rollup_daily`, which reports read (their ranges are whole local days), so a report over
  months reads days, not hours.
- Distinct contacts are not additive, so they are never stored as counts. Each contact id
  gets a small integer (`report_contacts`), and `rollup_sets` keeps, per local day (in
  OUTREACH_DEFAULT_TIMEZONE) x campaign x channel x language, the exact *set* of contacts as a
  Roaring bitmap. A report unions the bitmaps of its cells and days and counts the members,
  so a person seen in many hours, days, channels or campaigns is counted once. New contacts are
  those in the `first` set (first interaction ever) of a day in the range.
- `rollup_people` keeps the same kind of day set behind every other count (calls, funnel steps,
  topics, opt-ins, deliveries ...), so viewers' reports can tell how many distinct people a
  count comes from (campaigns.reports.disclosure). Refreshes OR into them like the day sets.

How they stay current (refresh, run before every report and by `outreach rollups rebuild`):
- Each source keeps a high-water id in `rollup_state`. A refresh takes the rows above it,
  recomputes the *whole hours* they fall in from the raw rows (delete + insert, so it is
  idempotent), and ORs their contacts into the day sets (a union, so also idempotent).
- The trailing OUTREACH_ROLLUP_LAG_HOURS before now, and before the previous refresh, are
  always recomputed too: that catches rows committed late with a lower id (PostgreSQL
  sequences) and calls that were still in progress at the last refresh (their outcome and
  duration arrive later, by status callback). Follow-up deliveries change old outbox rows,
  so that source also looks at rows updated since the last refresh.
- Refreshes are serialised by locking the state rows. One is skipped when no row was added
  and the last ran seconds ago (a dashboard page asks for several reports at once).
- Recording code needs no change: the log stays the single source of truth and a rebuild
  from it gives the same numbers (tested).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from campaigns.registry.models import Interaction
from campaigns.reports.contacts import fold_contacts, fold_people
from campaigns.reports.models import (
    ReportContact,
    RollupCount,
    RollupDaily,
    RollupPeople,
    RollupSet,
    RollupState,
    table_of,
)
from campaigns.reports.sources import SOURCES
from campaigns.reports.sources.base import PeopleRow, hour_of
from campaigns.reports.sources.interactions import presence_rows

CHANGE_MARGIN = timedelta(minutes=5)
# A rollup_state row (not a source) whose refreshed_at is the retention cutoff: raw rows
# before it were purged, so hours before it are never recomputed (their rollups are final).
PURGED = "retention"


class PurgedError(RuntimeError):
    """A rebuild would lose the numbers of raw rows already purged by retention."""


@dataclass
class RefreshStats:
    hours: int = 0
    contacts_rows: int = 0


def refresh(
    session: Session,
    *,
    zone: ZoneInfo,
    now: datetime,
    lag_hours: int = 2,
    min_interval: timedelta = timedelta(0),
) -> RefreshStats:
    """Folds raw rows newer than the high-water marks (and the trailing hours) into rollups."""
    states = _lock_states(session)
    floor = states[PURGED].refreshed_at if PURGED in states else None
    times = [states[s.name].refreshed_at for s in SOURCES]
    previous = min((t for t in times if t is not None), default=None)
    tops = {source.name: source.max_id(session) for source in SOURCES}
    quiet = all(top == states[name].high_water for name, top in tops.items())
    if quiet and previous is not None and timedelta(0) <= now - previous < min_interval:
        return RefreshStats()  # nothing new, refreshed moments ago (a page asks several times)
    hours: set[datetime] = set()
    for source in SOURCES:
        state = states[source.name]
        top = tops[source.name]
        since = state.refreshed_at - CHANGE_MARGIN if state.refreshed_at else None
        hours.update(hour_of(t) for t in source.touched(session, state.high_water, top, since))
    latest = hour_of(now)
    hours.update(latest - timedelta(hours=i) for i in range(lag_hours + 1))
    if previous is not None:
        # Calls in progress at the last refresh have ended since: count their hours again.
        last = hour_of(previous)
        hours.update(last - timedelta(hours=i) for i in range(lag_hours + 1))
    if floor is not None:
        hours = {hour for hour in hours if hour >= floor}
    for start, end in _spans(sorted(hours)):
        _recompute_counts(session, start, end)
    for day in sorted({hour.astimezone(zone).date() for hour in hours}):
        _compact_day(session, day, zone)
    low_i = states["interactions"].high_water
    rows = list(presence_rows(session, low=low_i, high=tops["interactions"]))
    rows += presence_rows(session, start=latest - timedelta(hours=lag_hours), high=low_i)
    fold_contacts(session, rows, zone=zone)
    for start, end in _spans(sorted(hours)):
        fold_people(session, _people(session, start, end), zone=zone)
    for source in SOURCES:
        states[source.name].high_water = tops[source.name]
        states[source.name].refreshed_at = now
    session.flush()
    return RefreshStats(hours=len(hours), contacts_rows=len(rows))


def rebuild(session: Session, *, zone: ZoneInfo, now: datetime) -> RefreshStats:
    """Drops every rollup and rebuilds them from the raw log, one local day at a time."""
    states = _lock_states(session)
    if PURGED in states and states[PURGED].refreshed_at is not None:
        raise PurgedError(
            f"raw rows before {states[PURGED].refreshed_at:%Y-%m-%d %H:%M} UTC were purged; "
            "a rebuild from the raw log would lose their numbers"
        )
    session.execute(delete(RollupCount))
    session.execute(delete(RollupDaily))
    session.execute(delete(RollupSet))
    session.execute(delete(RollupPeople))
    session.execute(delete(ReportContact))
    tops = {s.name: s.max_id(session) for s in SOURCES}
    first = _first_time(session)
    stats = RefreshStats()
    if first is not None:
        day = first.astimezone(zone).date()
        last = max(now, _last_time(session) or now).astimezone(zone).date()
        known: dict[str, int] = {}
        while day <= last:
            start = datetime.combine(day, datetime.min.time(), zone)
            end = datetime.combine(day + timedelta(days=1), datetime.min.time(), zone)
            _recompute_counts(session, start, end)
            _compact_day(session, day, zone)
            rows = list(presence_rows(session, start=start, end=end))
            fold_contacts(session, rows, zone=zone, known=known, fresh=True)
            fold_people(session, _people(session, start, end), zone=zone, known=known)
            stats.hours += 24
            stats.contacts_rows += len(rows)
            day += timedelta(days=1)
    for source in SOURCES:
        states[source.name].high_water = tops[source.name]
        states[source.name].refreshed_at = now
    session.flush()
    return stats


def purged_before(session: Session) -> datetime | None:
    """Returns the retention cutoff raw rows were purged before, if any purge ran."""
    state = session.get(RollupState, PURGED)
    return state.refreshed_at if state is not None else None


def mark_purged(session: Session, cutoff: datetime) -> None:
    """Records that raw rows before `cutoff` are gone, so their hours stay as rolled up."""
    state = session.get(RollupState, PURGED)
    if state is None:
        session.add(RollupState(source=PURGED, high_water=0, refreshed_at=cutoff))
    elif state.refreshed_at is None or state.refreshed_at < cutoff:
        state.refreshed_at = cutoff
    session.flush()


def _first_time(session: Session) -> datetime | None:

    return session.scalar(select(func.min(Interaction.created_at)))


def _last_time(session: Session) -> datetime | None:

    return session.scalar(select(func.max(Interaction.created_at)))


def _lock_states(session: Session) -> dict[str, RollupState]:
    existing = {s.name for s in SOURCES}
    have = set(session.scalars(select(RollupState.source)))
    for name in existing - have:
        session.add(RollupState(source=name, high_water=0))
    session.flush()
    # FOR UPDATE serialises concurrent refreshes on PostgreSQL (SQLite has one writer anyway).
    rows = session.scalars(select(RollupState).with_for_update().order_by(RollupState.source))
    return {row.source: row for row in rows}


def _people(session: Session, start: datetime, end: datetime) -> list[PeopleRow]:
    return [row for source in SOURCES for row in source.people(session, start, end)]


def _spans(hours: list[datetime]) -> Iterable[tuple[datetime, datetime]]:
    """Merges sorted hours into contiguous [start, end) spans."""
    start = prev = None
    for hour in hours:
        if start is None or prev is None:
            start = prev = hour
        elif hour == prev + timedelta(hours=1):
            prev = hour
        else:
            yield start, prev + timedelta(hours=1)
            start = prev = hour
    if start is not None and prev is not None:
        yield start, prev + timedelta(hours=1)


def _recompute_counts(session: Session, start: datetime, end: datetime) -> None:
    session.execute(delete(RollupCount).where(RollupCount.hour >= start, RollupCount.hour < end))
    rows: list[dict[str, object]] = []
    for source in SOURCES:
        for (hour, campaign_id, channel, language, metric, key), value in source.counts(
            session, start, end
        ).items():
            rows.append(
                {
                    "hour": hour,
                    "campaign_id": campaign_id,
                    "channel": channel,
                    "language": language,
                    "metric": metric,
                    "key": key[:64],
                    "value": value,
                }
            )
    merged: dict[tuple[object, ...], dict[str, object]] = {}
    for row in rows:
        ident = tuple(v for k, v in row.items() if k != "value")
        if ident in merged:
            merged[ident]["value"] = int(merged[ident]["value"]) + int(row["value"])  # type: ignore[call-overload]
        else:
            merged[ident] = row
    for chunk in _chunks(list(merged.values()), 5000):
        session.execute(insert(table_of(RollupCount)), chunk)


def _compact_day(session: Session, day: date, zone: ZoneInfo) -> None:
    """Sums a local day's hourly counts into its daily rows (what reports read)."""
    start = datetime.combine(day, time.min, zone)
    end = datetime.combine(day + timedelta(days=1), time.min, zone)
    session.execute(delete(RollupDaily).where(RollupDaily.day == day))
    c = RollupCount
    cells = (c.campaign_id, c.channel, c.language, c.metric, c.key)
    totals = session.execute(
        select(*cells, func.sum(c.value)).where(c.hour >= start, c.hour < end).group_by(*cells)
    )
    rows: list[dict[str, object]] = [
        {
            "day": day,
            "campaign_id": cid,
            "channel": ch,
            "language": lang,
            "metric": metric,
            "key": key,
            "value": int(value),
        }
        for cid, ch, lang, metric, key, value in totals
    ]
    for chunk in _chunks(rows, 5000):
        session.execute(insert(table_of(RollupDaily)), chunk)


def _chunks(items: list[dict[str, object]], size: int) -> Iterable[list[dict[str, object]]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
