"""Airing lift: calls per minute around each radio/TV airing, over a baseline.

For an airing at T, minute m counts the inbound voice calls (missed calls included, our
callbacks not) in [T+m, T+m+1) that belong to the airing's campaign or to no campaign
(a shared hotline call with no PSA code entered).
Baseline = mean calls per minute over the `before` minutes before T, leaving out minutes
inside any other airing's response window [T', T'+after). Excess = calls in [T, T+after)
minus baseline x after. Per station: the sum and mean of excess and the mean curve.

For viewers every count (each minute, the calls in a window, the baseline's calls, and the
same summed per station) is hidden when fewer than K distinct callers are behind it and
otherwise rounded like every report count; baselines and excess are computed from those.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from campaigns.airings.service import Airing, list_between
from campaigns.registry.enums import Channel
from campaigns.registry.models import Campaign, Interaction
from campaigns.reports.filters import Scope
from campaigns.reports.rounding import round_count
from campaigns.reports.schemas import AiringLift, LiftReport, ReportScope, StationLift, Suppressed
from campaigns.reports.suppression import hidden
from campaigns.voice.models import Call, CallDirection

Calls = list[tuple[int, str]]  # (interaction id, contact id) of each call counted


@dataclass(frozen=True)
class Window:
    """The calls around one airing, minute by minute, and which minutes make its baseline."""

    airing: Airing
    minutes: list[Calls]
    base: list[int]  # indexes of the baseline minutes (outside other airings' windows)


# Publishes a count of calls: exact for managers, or as a viewer may see it.
Publish = Callable[[Calls], int | str]


def exact(calls: Calls) -> int | str:
    return len(calls)


def for_viewers(k: int, base: int, secret: bytes) -> Publish:
    """Hides counts of fewer than K distinct callers and rounds the others by their calls."""

    def publish(calls: Calls) -> int | str:
        if not calls:
            return 0
        if len(calls) < k or len({contact for _id, contact in calls}) < k:
            return hidden(k)
        content = "lift|" + ",".join(str(i) for i, _contact in sorted(calls))
        return round_count(len(calls), base=base, secret=secret, content=content.encode())

    return publish


def airing_lift(
    session: Session,
    scope: Scope,
    *,
    before: int = 30,
    after: int = 10,
    publish: Publish = exact,
    suppressed: Suppressed | None = None,
) -> LiftReport:
    """Computes the lift of every airing in the scope and sums it per station."""
    if before < 1 or after < 1 or before > 240 or after > 240:
        raise ValueError("windows must be between 1 and 240 minutes")
    airings = list_between(
        session, start=scope.utc_start, end=scope.utc_end, campaign_ids=scope.campaign_ids
    )
    # Other airings' windows may start before the range; fetch a margin around it.
    neighbours = list_between(
        session,
        start=scope.utc_start - timedelta(minutes=before + after),
        end=scope.utc_end + timedelta(minutes=after),
    )
    codes: dict[int, str] = {i: c for i, c in session.execute(select(Campaign.id, Campaign.code))}
    windows = [_window(session, a, neighbours, before, after) for a in airings]
    rows = [_row(w, before, after, codes, scope, publish) for w in windows]
    return LiftReport(
        filter=ReportScope.model_validate(scope.flt.describe()),
        timezone=str(scope.zone),
        before_minutes=before,
        after_minutes=after,
        minutes=list(range(-before, after)),
        airings=rows,
        stations=_stations(windows, rows, before, after, publish),
        suppressed=suppressed,
    )


def _window(
    session: Session, airing: Airing, others: list[Airing], before: int, after: int
) -> Window:
    start = airing.aired_at - timedelta(minutes=before)
    end = airing.aired_at + timedelta(minutes=after)
    t = Interaction
    calls = session.execute(
        select(t.id, t.created_at, t.contact_id).where(
            t.channel == Channel.VOICE,
            t.created_at >= start,
            t.created_at < end,
            or_(t.campaign_id == airing.campaign_id, t.campaign_id.is_(None)),
            # Our callbacks to missed calls are not responses; the missed call was.
            t.external_sid.not_in(
                select(Call.call_sid).where(
                    Call.direction == CallDirection.CALLBACK,
                    Call.started_at >= start,
                    Call.started_at < end,
                )
            ),
        )
    )
    minutes: list[Calls] = [[] for _ in range(before + after)]
    for interaction_id, at, contact in calls:
        index = int((at - start).total_seconds() // 60)
        if 0 <= index < len(minutes):
            minutes[index].append((interaction_id, contact))
    windows = [
        (o.aired_at, o.aired_at + timedelta(minutes=after)) for o in others if o.id != airing.id
    ]
    base = [i for i in range(before) if not _inside(start + timedelta(minutes=i), windows)]
    return Window(airing=airing, minutes=minutes, base=base)


def _row(
    window: Window,
    before: int,
    after: int,
    codes: dict[int, str],
    scope: Scope,
    publish: Publish,
) -> AiringLift:
    airing = window.airing
    base_calls = publish([c for i in window.base for c in window.minutes[i]])
    baseline = base_calls / len(window.base) if window.base and isinstance(base_calls, int) else 0.0
    known = bool(isinstance(base_calls, int) or not window.base)
    calls_after = publish([c for calls in window.minutes[before:] for c in calls])
    excess = round(calls_after - baseline * after, 2) if isinstance(calls_after, int) else None
    return AiringLift(
        id=airing.id,
        campaign=codes.get(airing.campaign_id, ""),
        station=airing.station,
        aired_at=airing.aired_at,
        duration_seconds=airing.duration_seconds,
        per_minute=[publish(calls) for calls in window.minutes],
        baseline_per_minute=round(baseline, 3) if known else None,
        baseline_minutes_used=len(window.base),
        calls_after=calls_after,
        excess_calls=excess if known else None,
        aired_local=airing.aired_at.astimezone(scope.zone).strftime("%Y-%m-%d %H:%M"),
    )


def _per(count: int | str, n: int, digits: int) -> float | None:
    return round(count / n, digits) if isinstance(count, int) and n else None


def _inside(moment: datetime, windows: list[tuple[datetime, datetime]]) -> bool:
    return any(a <= moment < b for a, b in windows)


def _stations(
    windows: list[Window], rows: list[AiringLift], before: int, after: int, publish: Publish
) -> list[StationLift]:
    out = []
    for station in sorted({w.airing.station for w in windows}):
        mine = [(w, r) for w, r in zip(windows, rows, strict=True) if w.airing.station == station]
        n = len(mine)
        curve = [
            _per(publish([c for w, _r in mine for c in w.minutes[i]]), n, 2)
            for i in range(before + after)
        ]
        calls_after = publish([c for w, _r in mine for calls in w.minutes[before:] for c in calls])
        each = [r.excess_calls for _w, r in mine]
        excess = None if None in each else round(sum(e or 0.0 for e in each), 2)
        out.append(
            StationLift(
                station=station,
                airings=n,
                calls_after=calls_after,
                excess_calls=excess,
                mean_excess_per_airing=round(excess / n, 2) if excess is not None else None,
                mean_per_minute=curve,
            )
        )
    return out
