"""The voice source: calls (outcome, duration) and their events (funnel, topics), counted
at the hour the call started so one call's numbers always land in one bucket."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session

from campaigns.models import Campaign
from campaigns.reports.metrics import DURATION_BIN, Metric
from campaigns.reports.sources import CountKey, TableSource, hour_of
from campaigns.voice_models import Call, CallEvent, CallEventKind

__all__ = ["Call", "CallSource"]

# Outcomes of calls that reached an end of the menu (not hung up mid-menu, not an error).
COMPLETED = frozenset({"completed", "transferred", "after_hours"})
FUNNEL = {
    CallEventKind.ENTERED: Metric.NODE_REACHED,
    CallEventKind.HUNG_UP: Metric.NODE_HUNG_UP,
    CallEventKind.NO_INPUT: Metric.NODE_NO_INPUT,
    CallEventKind.INVALID: Metric.NODE_INVALID,
    CallEventKind.WENT_ON: Metric.NODE_WENT_ON,
}
TOPIC_QUESTION = "topic"


class CallSource(TableSource):
    """Calls and call events."""

    def counts(self, session: Session, start: datetime, end: datetime) -> Counter[CountKey]:
        out: Counter[CountKey] = Counter()
        for where in _spans(session, start, end):
            self._count_calls(session, where, out)
            self._count_events(session, where, out)
        return out

    def _count_calls(self, session: Session, where: ColumnElement[bool], out: Counter) -> None:
        calls = select(
            Call.started_at, Call.campaign_id, Call.language, Call.outcome, Call.duration_seconds
        ).where(where)
        for at, campaign_id, language, outcome, duration in session.execute(calls):
            cell = (hour_of(at), campaign_id or 0, "voice", language or "")
            out[(*cell, Metric.CALLS, "")] += 1
            if outcome in COMPLETED:
                out[(*cell, Metric.COMPLETED, "")] += 1
            if outcome == "transferred":
                out[(*cell, Metric.TRANSFERS, "")] += 1
            if duration is not None:
                out[(*cell, Metric.CALL_SECONDS, "")] += duration
                out[(*cell, Metric.DURATION, str(duration - duration % DURATION_BIN))] += 1

    def _count_events(self, session: Session, where: ColumnElement[bool], out: Counter) -> None:
        events = (
            select(
                Call.started_at,
                Call.campaign_id,
                Call.language,
                CallEvent.node,
                CallEvent.kind,
                CallEvent.question_id,
                CallEvent.value,
            )
            .join(Call, Call.id == CallEvent.call_id)
            .where(where)
        )
        for at, campaign_id, language, node, kind, question, value in session.execute(
            events.execution_options(yield_per=20_000)
        ):
            cell = (hour_of(at), campaign_id or 0, "voice", language or "")
            metric = FUNNEL.get(kind)
            if metric is not None:
                out[(*cell, metric, node)] += 1
            elif kind == CallEventKind.RESULT and question == TOPIC_QUESTION and value:
                out[(*cell, Metric.TOPIC, value)] += 1


def _spans(session: Session, start: datetime, end: datetime) -> list[ColumnElement[bool]]:
    """Filters for calls started in [start, end), shaped so the (campaign_id, started_at)
    index serves them: per known campaign, and the calls with no campaign."""
    during = and_(Call.started_at >= start, Call.started_at < end)
    ids = list(session.scalars(select(Campaign.id)))
    filters = [and_(Call.campaign_id.is_(None), during)]
    if ids:
        filters.insert(0, and_(Call.campaign_id.in_(ids), during))
    return filters
