"""Enrolment in a series: explicit consent recorded, number sealed, messages scheduled."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from campaigns.followups.consent import is_suppressed, record_consent
from campaigns.followups.models import ConsentKind, Enrollment, EnrollmentStatus, OutboxMessage
from campaigns.followups.schedule import QuietHours, due_times
from campaigns.registry.cache import campaign_followups
from campaigns.registry.enums import Channel
from campaigns.registry.models import Campaign
from campaigns.registry.series import FollowupsSpec, parse_followups
from outreach.core.context import AppContext
from outreach.core.db import insert_for
from outreach.core.logs import event

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OptInResult:
    enrolled: bool
    reason: str  # "enrolled", "already", "suppressed", "no_series", "no_campaign", "no_sender"
    enrollment_id: int | None = None
    messages: int = 0


def opt_in(
    session: Session,
    ctx: AppContext,
    *,
    campaign_id: int,
    number: str,
    language: str | None,
    channel: str,
    now: datetime,
    series_id: str | None = None,
    sender: str | None = None,
    source: str = "voice_key",
) -> OptInResult:
    """Enrols a number in a campaign's series and schedules its messages (explicit consent)."""
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        return OptInResult(False, "no_campaign")
    spec = parse_followups(campaign.options or {})
    series = spec.find(series_id) if spec is not None else None
    if spec is None or series is None:
        return OptInResult(False, "no_series")
    contact = ctx.contact_id(number)
    if is_suppressed(session, contact):
        # Only START/UNSTOP/YES by SMS lifts a STOP, as Twilio's own opt-out list does.
        return OptInResult(False, "suppressed")
    existing = _active(session, campaign_id=campaign.id, series_id=series.id, contact=contact)
    if existing is not None:
        return OptInResult(False, "already", existing)
    from_number = pick_sender(campaign, spec, sender=sender)
    if not from_number:
        return OptInResult(False, "no_sender")
    texts = series.messages[0].text
    lang = (
        language
        if language in texts
        else next((lang for lang in campaign.languages if lang in texts), next(iter(texts)))
    )
    whatsapp = channel == Channel.WHATSAPP
    timezone = campaign.timezone or ctx.settings.default_timezone
    # The unique index on running enrolments settles a race (two YES texts at once): the
    # second insert does nothing (on PostgreSQL after the first commits) and reads the first.
    enrollment_id = session.scalar(
        insert_for(session, Enrollment)
        .values(
            campaign_id=campaign.id,
            series_id=series.id,
            contact_id=contact,
            channel=Channel.WHATSAPP if whatsapp else Channel.SMS,
            language=lang,
            sender=from_number,
            timezone=timezone,
            number_enc=ctx.vault.seal(number),
            status=EnrollmentStatus.ACTIVE,
            created_at=now,
        )
        .on_conflict_do_nothing(
            index_elements=["campaign_id", "series_id", "contact_id"],
            index_where=text("status = 'active'"),
        )
        .returning(Enrollment.id)
    )
    if enrollment_id is None:
        raced = _active(session, campaign_id=campaign.id, series_id=series.id, contact=contact)
        return OptInResult(False, "already", raced)
    quiet = QuietHours.for_campaign(ctx.settings, spec)
    dues = due_times(series, opted_in_at=now, zone=timezone, quiet=quiet)
    for step, due in enumerate(dues):
        session.add(
            OutboxMessage(
                enrollment_id=enrollment_id,
                campaign_id=campaign.id,
                contact_id=contact,
                step=step,
                due_at=due,
                updated_at=now,
            )
        )
    record_consent(
        session,
        contact_id=contact,
        kind=ConsentKind.OPT_IN,
        channel=channel,
        source=source,
        now=now,
        campaign_id=campaign.id,
        series_id=series.id,
    )
    session.flush()
    event(
        log,
        "follow-ups opted in",
        contact=contact,
        campaign_id=campaign.id,
        series=series.id,
        messages=len(dues),
        source=source,
    )
    return OptInResult(True, "enrolled", enrollment_id, len(dues))


def _active(session: Session, *, campaign_id: int, series_id: str, contact: str) -> int | None:
    return session.scalar(
        select(Enrollment.id).where(
            Enrollment.campaign_id == campaign_id,
            Enrollment.series_id == series_id,
            Enrollment.contact_id == contact,
            Enrollment.status == EnrollmentStatus.ACTIVE,
        )
    )


def open_series(
    session: Session, *, campaign_id: int | None, contact_id: str, sender: str | None = None
) -> frozenset[str]:
    """Returns the campaign's series this contact could opt in to now (none after a STOP)."""
    # The campaign's spec comes from the registry cache: this runs on every call step.
    known = campaign_followups(session, campaign_id) if campaign_id is not None else None
    spec, first_number = known if known is not None else (None, None)
    if spec is None or is_suppressed(session, contact_id):
        return frozenset()
    # Offer nothing that opt_in would refuse for want of a number to send from (pick_sender).
    if not (spec.sender or sender or first_number):
        return frozenset()
    return frozenset(s.id for s in spec.series)


def pick_sender(campaign: Campaign, spec: FollowupsSpec, *, sender: str | None) -> str | None:
    """Returns the number a series is sent from: the series', the caller's hint, the campaign's."""
    return spec.sender or sender or (campaign.numbers[0].number if campaign.numbers else None)
