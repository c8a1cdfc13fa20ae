"""Use cases of follow-ups: opt in (SMS YES, voice key), SMS commands (STOP, START, HELP)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.enums import Channel, InteractionKind
from campaigns.keywords import guess_language, normalize_keyword
from campaigns.models import Campaign, CampaignNumber, Interaction
from campaigns.registry import organisation
from outreach.context import AppContext
from outreach.followups.consent import is_suppressed, opt_back_in, opt_out, record_consent
from outreach.followups.models import ConsentKind, Enrollment, EnrollmentStatus, OutboxMessage
from outreach.followups.replies import reply_for
from outreach.followups.schedule import QuietHours, due_times
from outreach.followups.schemas import parse_followups
from outreach.logs import event
from outreach.privacy import Address

log = logging.getLogger(__name__)

STOP_WORDS = ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE")
START_WORDS = ("START", "UNSTOP")
HELP_WORDS = ("HELP",)
YES_WORDS = ("YES",)
# A YES counts as an answer to the keyword reply that offered the series within this time.
OFFER_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class OptInResult:
    enrolled: bool
    reason: str  # "enrolled", "already", "suppressed", "no_series", "no_campaign", "no_sender"
    enrollment_id: int | None = None
    messages: int = 0


@dataclass(frozen=True)
class CommandResult:
    """The answer to a command word, with what the SMS path should log."""

    reply: str | None
    kind: InteractionKind
    campaign_id: int | None = None
    language: str | None = None


def _words(*groups: object) -> frozenset[str]:
    found: set[str] = set()
    for group in groups:
        items = group.split(",") if isinstance(group, str) else group
        found.update(normalize_keyword(str(w)) for w in items)  # type: ignore[attr-defined]
    return frozenset(w for w in found if w)


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
    existing = session.scalar(
        select(Enrollment).where(
            Enrollment.campaign_id == campaign.id,
            Enrollment.series_id == series.id,
            Enrollment.contact_id == contact,
            Enrollment.status == EnrollmentStatus.ACTIVE,
        )
    )
    if existing is not None:
        return OptInResult(False, "already", existing.id)
    from_number = spec.sender or sender or _campaign_sender(campaign)
    if not from_number:
        return OptInResult(False, "no_sender")
    texts = series.messages[0].text
    lang = (
        language
        if language in texts
        else next((lang for lang in campaign.languages if lang in texts), next(iter(texts)))
    )
    whatsapp = channel == Channel.WHATSAPP
    enrollment = Enrollment(
        campaign_id=campaign.id,
        series_id=series.id,
        contact_id=contact,
        channel=Channel.WHATSAPP if whatsapp else Channel.SMS,
        language=lang,
        sender=from_number,
        timezone=campaign.timezone or ctx.settings.default_timezone,
        number_enc=ctx.vault.seal(number),
        created_at=now,
    )
    session.add(enrollment)
    session.flush()
    quiet = QuietHours.for_campaign(ctx.settings, spec)
    dues = due_times(series, opted_in_at=now, zone=enrollment.timezone, quiet=quiet)
    for step, due in enumerate(dues):
        session.add(
            OutboxMessage(
                enrollment_id=enrollment.id,
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
    return OptInResult(True, "enrolled", enrollment.id, len(dues))


def _campaign_sender(campaign: Campaign) -> str | None:
    return campaign.numbers[0].number if campaign.numbers else None


def handle_sms_command(
    session: Session,
    ctx: AppContext,
    *,
    sender: Address,
    to_number: str,
    word: str,
    now: datetime,
    body: str | None = None,
) -> CommandResult | None:
    """Answers STOP, START, HELP and YES words (before keyword matching); None otherwise.

    Given the whole `body`, a command counts only when it is the message's only word, as
    Twilio's own opt-out matching does: "End of my contract?" is a question, not an END.
    """
    norm = normalize_keyword(word)
    if not norm:
        return None
    if body is not None and sum(1 for token in body.split() if normalize_keyword(token)) != 1:
        return None
    settings = ctx.settings
    channel = Channel.WHATSAPP if sender.whatsapp else Channel.SMS
    contact = ctx.contact_id(sender.number)
    org = organisation(session)
    default_lang = (org.get("languages") or ["en"])[0]
    language = guess_language(word, default_lang)
    campaign_id = _campaign_of_number(session, to_number)
    if norm in _words(STOP_WORDS, settings.opt_out_words):
        opt_out(
            session,
            contact_id=contact,
            channel=channel,
            source="sms_stop",
            now=now,
            campaign_id=campaign_id,
        )
        return CommandResult(
            reply_for(org, "stop", language), InteractionKind.OPT_OUT, campaign_id, language
        )
    if norm in _words(START_WORDS):
        opt_back_in(
            session,
            contact_id=contact,
            channel=channel,
            source="sms_start",
            now=now,
            campaign_id=campaign_id,
        )
        return CommandResult(
            reply_for(org, "start", language), InteractionKind.OPT_BACK_IN, campaign_id, language
        )
    if norm in _words(HELP_WORDS):
        return CommandResult(
            reply_for(org, "help", language), InteractionKind.HELP, campaign_id, language
        )
    if norm in _words(YES_WORDS, settings.opt_in_words):
        return _yes(
            session,
            ctx,
            sender=sender,
            to_number=to_number,
            contact=contact,
            channel=channel,
            org=org,
            language=language,
            now=now,
        )
    return None


def _yes(
    session: Session,
    ctx: AppContext,
    *,
    sender: Address,
    to_number: str,
    contact: str,
    channel: str,
    org: dict[str, object],
    language: str,
    now: datetime,
) -> CommandResult | None:
    was_suppressed = opt_back_in(
        session, contact_id=contact, channel=channel, source="sms_yes", now=now
    )
    offer = _last_offer(session, contact=contact, to_number=to_number, now=now)
    if offer is None:
        if was_suppressed:
            return CommandResult(
                reply_for(org, "start", language), InteractionKind.OPT_BACK_IN, None, language
            )
        return None  # not an answer to an offer: let keyword matching have the word
    campaign, series_id, offer_lang = offer
    result = opt_in(
        session,
        ctx,
        campaign_id=campaign.id,
        number=sender.number,
        language=offer_lang,
        channel=channel,
        now=now,
        series_id=series_id,
        sender=to_number,
        source="sms_yes",
    )
    lang = offer_lang or language
    key = "optin" if result.enrolled else "already" if result.reason == "already" else "start"
    return CommandResult(reply_for(org, key, lang), InteractionKind.OPT_IN, campaign.id, lang)


def _last_offer(
    session: Session, *, contact: str, to_number: str, now: datetime
) -> tuple[Campaign, str, str | None] | None:
    """Finds the keyword reply this sender last got on this number that offered a series."""
    rows = session.execute(
        select(Interaction.campaign_id, Interaction.language)
        .where(
            Interaction.contact_id == contact,
            Interaction.number == to_number,
            Interaction.kind == InteractionKind.KEYWORD,
            Interaction.campaign_id.is_not(None),
            Interaction.created_at >= now - OFFER_WINDOW,
        )
        .order_by(Interaction.created_at.desc(), Interaction.id.desc())
        .limit(1)
    ).first()
    if rows is None:
        return None
    campaign = session.get(Campaign, rows[0])
    spec = parse_followups(campaign.options or {}) if campaign is not None else None
    if campaign is None or spec is None:
        return None
    series = next((s for s in spec.series if s.offer_keyword_reply), None)
    return (campaign, series.id, rows[1]) if series is not None else None


def _campaign_of_number(session: Session, number: str) -> int | None:
    return session.scalar(
        select(CampaignNumber.campaign_id).where(CampaignNumber.number == number).limit(1)
    )
