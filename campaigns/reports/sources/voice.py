"""The voice source: calls (outcome, duration) and their events (funnel, topics), counted
at the hour the call started so one call's numbers always land in one bucket."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import Session

from campaigns.registry.models import Campaign
from campaigns.reports.metrics import DURATION_BIN, Metric
from campaigns.reports.sources.base import (
    CountKey,
    PeopleRow,
    TableSource,
    hour_bucket,
    parse_hour,
)
from campaigns.voice.models import Call, CallEvent, CallEventKind

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

    def people(self, session: Session, start: datetime, end: datetime) -> Iterator[PeopleRow]:
        for where in _spans(session, start, end):
            yield from self._call_people(session, where)
            yield from self._event_people(session, where)

    def _call_people(self, session: Session, where: ColumnElement[bool]) -> Iterator[PeopleRow]:
        timed = Call.duration_seconds.is_not(None)
        cells = (hour_bucket(session, Call.started_at), Call.campaign_id, Call.language)
        query = select(*cells, Call.outcome, timed, Call.contact_id).where(where).distinct()
        for bucket, campaign_id, language, outcome, has_duration, contact in session.execute(query):
            cell = (parse_hour(bucket), campaign_id or 0, "voice", language or "")
            yield *cell, Metric.CALLS, "", contact
            if outcome in COMPLETED:
                yield *cell, Metric.COMPLETED, "", contact
            if outcome == "transferred":
                yield *cell, Metric.TRANSFERS, "", contact
            if has_duration:
                # One set for the durations: mean and median come from the timed calls.
                yield *cell, Metric.CALL_SECONDS, "", contact

    def _event_people(self, session: Session, where: ColumnElement[bool]) -> Iterator[PeopleRow]:
        value = case((CallEvent.kind == CallEventKind.RESULT, CallEvent.value), else_=None)
        question = case((CallEvent.kind == CallEventKind.RESULT, CallEvent.question_id), else_=None)
        cells = (hour_bucket(session, Call.started_at), Call.campaign_id, Call.language)
        query = (
            select(*cells, CallEvent.node, CallEvent.kind, question, value, Call.contact_id)
            .join(Call, Call.id == CallEvent.call_id)
            .where(where)
            .distinct()
        )
        for (
            bucket,
            campaign_id,
            language,
            node,
            kind,
            question_id,
            answer,
            contact,
        ) in session.execute(query):
            cell = (parse_hour(bucket), campaign_id or 0, "voice", language or "")
            metric = FUNNEL.get(kind)
            if metric is not None:
                yield *cell, metric, node, contact
            elif kind == CallEventKind.RESULT and question_id == TOPIC_QUESTION and answer:
                yield *cell, Metric.TOPIC, answer, contact

    def _count_calls(self, session: Session, where: ColumnElement[bool], out: Counter) -> None:
        hour = hour_bucket(session, Call.started_at)
        binned = Call.duration_seconds - Call.duration_seconds % DURATION_BIN
        cells = (hour, Call.campaign_id, Call.language, Call.outcome, binned)
        calls = (
            select(*cells, func.count(), func.coalesce(func.sum(Call.duration_seconds), 0))
            .where(where)
            .group_by(*cells)
        )
        for bucket, campaign_id, language, outcome, duration_bin, n, seconds in session.execute(
            calls
        ):
            cell = (parse_hour(bucket), campaign_id or 0, "voice", language or "")
            out[(*cell, Metric.CALLS, "")] += n
            if outcome in COMPLETED:
                out[(*cell, Metric.COMPLETED, "")] += n
            if outcome == "transferred":
                out[(*cell, Metric.TRANSFERS, "")] += n
            if duration_bin is not None:
                out[(*cell, Metric.CALL_SECONDS, "")] += int(seconds)
                out[(*cell, Metric.DURATION, str(int(duration_bin)))] += n

    def _count_events(self, session: Session, where: ColumnElement[bool], out: Counter) -> None:
        hour = hour_bucket(session, Call.started_at)
        # Only a result's value is a key (a topic); other events group without it.
        value = case((CallEvent.kind == CallEventKind.RESULT, CallEvent.value), else_=None)
        question = case((CallEvent.kind == CallEventKind.RESULT, CallEvent.question_id), else_=None)
        cells = (
            hour,
            Call.campaign_id,
            Call.language,
            CallEvent.node,
            CallEvent.kind,
            question,
            value,
        )
        events = (
            select(*cells, func.count())
            .join(Call, Call.id == CallEvent.call_id)
            .where(where)
            .group_by(*cells)
        )
        for bucket, campaign_id, language, node, kind, question_id, answer, n in session.execute(
            events
        ):
            cell = (parse_hour(bucket), campaign_id or 0, "voice", language or "")
            metric = FUNNEL.get(kind)
            if metric is not None:
                out[(*cell, metric, node)] += n
            elif kind == CallEventKind.RESULT and question_id == TOPIC_QUESTION and answer:
                out[(*cell, Metric.TOPIC, answer)] += n


def _spans(session: Session, start: datetime, end: datetime) -> list[ColumnElement[bool]]:
    """Filters for calls started in [start, end), shaped so the (campaign_id, started_at)
    index serves them: per known campaign, and the calls with no campaign."""
    # Simulated calls (the flow editor's phone pane) are never counted.
    during = and_(Call.started_at >= start, Call.started_at < end, Call.simulated.is_(False))
    ids = list(session.scalars(select(Campaign.id)))
    filters = [and_(Call.campaign_id.is_(None), during)]
    if ids:
        filters.insert(0, and_(Call.campaign_id.in_(ids), during))
    return filters
