"""Airing lift: calls per minute around each radio/TV airing, over a baseline.

For an airing at T, minute m counts the inbound voice calls (missed calls included, our
callbacks not) in [T+m, T+m+1) that belong to the airing's campaign or to no campaign
(a shared hotline call with no PSA code entered).
Baseline = mean calls per minute over the `before` minutes before T, leaving out minutes
inside any other airing's response window [T', T'+after). Excess = calls in [T, T+after)
minus baseline x after. Per station: the sum and mean of excess and the mean curve.
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from campaigns.airings.service import Airing, list_between
from campaigns.registry.enums import Channel
from campaigns.registry.models import Campaign, Interaction
from campaigns.reports.filters import Scope
from campaigns.reports.schemas import AiringLift, LiftReport, ReportScope, StationLift
from campaigns.reports.suppression import hidden, is_small
from campaigns.voice.models import Call, CallDirection


def airing_lift(session: Session, scope: Scope, *, before: int = 30, after: int = 10) -> LiftReport:
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
    rows = [_one(session, a, neighbours, before, after, codes, scope) for a in airings]
    return LiftReport(
        filter=ReportScope.model_validate(scope.flt.describe()),
        timezone=str(scope.zone),
        before_minutes=before,
        after_minutes=after,
        minutes=list(range(-before, after)),
        airings=rows,
        stations=_stations(rows, before, after),
    )


def _one(
    session: Session,
    airing: Airing,
    others: list[Airing],
    before: int,
    after: int,
    codes: dict[int, str],
    scope: Scope,
) -> AiringLift:
    start = airing.aired_at - timedelta(minutes=before)
    end = airing.aired_at + timedelta(minutes=after)
    t = Interaction
    times = session.scalars(
        select(t.created_at).where(
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
    per_minute = [0] * (before + after)
    for at in times:
        index = int((at - start).total_seconds() // 60)
        if 0 <= index < len(per_minute):
            per_minute[index] += 1
    windows = [
        (o.aired_at, o.aired_at + timedelta(minutes=after)) for o in others if o.id != airing.id
    ]
    base_minutes = [
        per_minute[i] for i in range(before) if not _inside(start + timedelta(minutes=i), windows)
    ]
    baseline = sum(base_minutes) / len(base_minutes) if base_minutes else 0.0
    calls_after = sum(per_minute[before:])
    return AiringLift(
        id=airing.id,
        campaign=codes.get(airing.campaign_id, ""),
        station=airing.station,
        aired_at=airing.aired_at,
        duration_seconds=airing.duration_seconds,
        per_minute=list(per_minute),
        baseline_per_minute=round(baseline, 3),
        baseline_minutes_used=len(base_minutes),
        calls_after=calls_after,
        excess_calls=round(calls_after - baseline * after, 2),
        aired_local=airing.aired_at.astimezone(scope.zone).strftime("%Y-%m-%d %H:%M"),
    )


def _inside(moment: datetime, windows: list[tuple[datetime, datetime]]) -> bool:
    return any(a <= moment < b for a, b in windows)


def _stations(rows: list[AiringLift], before: int, after: int) -> list[StationLift]:
    out = []
    for station in sorted({r.station for r in rows}):
        mine = [r for r in rows if r.station == station]
        curve: list[float | None] = [
            round(sum(_int(r.per_minute[i]) for r in mine) / len(mine), 2)
            for i in range(before + after)
        ]
        excess = sum(r.excess_calls or 0.0 for r in mine)
        out.append(
            StationLift(
                station=station,
                airings=len(mine),
                calls_after=sum(_int(r.calls_after) for r in mine),
                excess_calls=round(excess, 2),
                mean_excess_per_airing=round(excess / len(mine), 2),
                mean_per_minute=curve,
            )
        )
    return out


def _int(value: int | str) -> int:
    assert isinstance(value, int), "stations are summed from exact rows"
    return value


def protect_lift(lift: dict[str, Any], k: int) -> dict[str, Any]:
    """Hides per-airing and per-station call counts under K (and the excess derived from them).

    Per-minute curves are kept: they count calls by minute, no attribute of any caller.
    """
    out = copy.deepcopy(lift)
    for row in [*out["airings"], *out["stations"]]:
        if is_small(row["calls_after"], k):
            row["calls_after"] = hidden(k)
            row["excess_calls"] = None
            if "mean_excess_per_airing" in row:
                row["mean_excess_per_airing"] = None
    out["suppressed"] = {"k": k}
    return out
