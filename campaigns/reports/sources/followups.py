"""The follow-up source: consents (opt-ins, opt-outs) and delivered messages."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.followups.models import Consent, ConsentKind, Enrollment, OutboxMessage, OutboxStatus
from campaigns.reports.metrics import Metric
from campaigns.reports.sources.base import CountKey, Source, TableSource, hour_bucket, parse_hour


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


FOLLOWUP_SOURCES: list[Source] = [
    ConsentSource("consents", Consent),
    DeliverySource("deliveries", OutboxMessage, time_attr="sent_at", updated_attr="updated_at"),
]
