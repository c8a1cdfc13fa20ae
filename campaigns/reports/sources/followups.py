"""The follow-up source: consents (opt-ins, opt-outs) and delivered messages."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.followups.models import Consent, ConsentKind, Enrollment, OutboxMessage, OutboxStatus
from campaigns.reports.metrics import Metric
from campaigns.reports.sources.base import (
    CountKey,
    PeopleRow,
    Source,
    TableSource,
    hour_bucket,
    parse_hour,
)

CONSENT_METRICS = {ConsentKind.OPT_IN: Metric.OPT_INS, ConsentKind.OPT_OUT: Metric.OPT_OUTS}


class ConsentSource(TableSource):
    """Opt-ins and opt-outs, whatever channel they came by."""

    def counts(self, session: Session, start: datetime, end: datetime) -> Counter[CountKey]:
        out: Counter[CountKey] = Counter()
        cells = (
            hour_bucket(session, Consent.created_at),
            Consent.campaign_id,
            Consent.channel,
            Consent.kind,
        )
        query = (
            select(*cells, func.count())
            .where(Consent.created_at >= start, Consent.created_at < end)
            .group_by(*cells)
        )
        for bucket, campaign_id, channel, kind, n in session.execute(query):
            cell = (parse_hour(bucket), campaign_id or 0, str(channel), "")
            if kind == ConsentKind.OPT_IN:
                out[(*cell, Metric.OPT_INS, "")] += n
            elif kind == ConsentKind.OPT_OUT:
                out[(*cell, Metric.OPT_OUTS, "")] += n
        return out

    def people(self, session: Session, start: datetime, end: datetime) -> Iterator[PeopleRow]:
        c = Consent
        cells = (hour_bucket(session, c.created_at), c.campaign_id, c.channel, c.kind, c.contact_id)
        query = select(*cells).where(c.created_at >= start, c.created_at < end).distinct()
        for bucket, campaign_id, channel, kind, contact in session.execute(query):
            metric = CONSENT_METRICS.get(kind)
            if metric is not None:
                yield parse_hour(bucket), campaign_id or 0, str(channel), "", metric, "", contact


class DeliverySource(TableSource):
    """Follow-up messages delivered, counted at the hour they were sent."""

    def counts(self, session: Session, start: datetime, end: datetime) -> Counter[CountKey]:
        out: Counter[CountKey] = Counter()
        cells = (
            hour_bucket(session, OutboxMessage.sent_at),
            OutboxMessage.campaign_id,
            Enrollment.channel,
            Enrollment.language,
        )
        query = (
            select(*cells, func.count())
            .join(Enrollment, Enrollment.id == OutboxMessage.enrollment_id)
            .where(
                OutboxMessage.status == OutboxStatus.DELIVERED,
                OutboxMessage.sent_at >= start,
                OutboxMessage.sent_at < end,
            )
            .group_by(*cells)
        )
        for bucket, campaign_id, channel, language, n in session.execute(query):
            key = (parse_hour(bucket), campaign_id or 0, str(channel), language or "")
            out[(*key, Metric.DELIVERED, "")] += n
        return out

    def people(self, session: Session, start: datetime, end: datetime) -> Iterator[PeopleRow]:
        o = OutboxMessage
        cells = (
            hour_bucket(session, o.sent_at),
            o.campaign_id,
            Enrollment.channel,
            Enrollment.language,
            o.contact_id,
        )
        query = (
            select(*cells)
            .join(Enrollment, Enrollment.id == o.enrollment_id)
            .where(o.status == OutboxStatus.DELIVERED, o.sent_at >= start, o.sent_at < end)
            .distinct()
        )
        for bucket, campaign_id, channel, language, contact in session.execute(query):
            cell = (parse_hour(bucket), campaign_id or 0, str(channel), language or "")
            yield *cell, Metric.DELIVERED, "", contact


FOLLOWUP_SOURCES: list[Source] = [
    ConsentSource("consents", Consent),
    DeliverySource("deliveries", OutboxMessage, time_attr="sent_at", updated_attr="updated_at"),
]
