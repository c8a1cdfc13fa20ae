"""SMS commands of follow-ups: STOP and local opt-out words, START, HELP, and YES to an offer.

`opt_in` (also used by the voice opt-in) lives in `enrol` and is re-exported here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.followups.consent import opt_back_in, opt_out
from campaigns.followups.enrol import OptInResult, opt_in
from campaigns.followups.replies import reply_for
from campaigns.registry.cache import campaign_of_number, organisation
from campaigns.registry.enums import Channel, InteractionKind
from campaigns.registry.keywords import guess_language, normalize_keyword
from campaigns.registry.models import Campaign, Interaction
from campaigns.registry.series import parse_followups
from outreach.core.context import AppContext
from outreach.core.privacy import Address
from outreach.core.settings import Settings

log = logging.getLogger(__name__)
__all__ = ["CommandResult", "OptInResult", "handle_sms_command", "opt_in"]

STOP_WORDS = ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE")
START_WORDS = ("START", "UNSTOP")
HELP_WORDS = ("HELP",)
YES_WORDS = ("YES",)
# A YES counts as an answer to the keyword reply that offered the series within this time.
OFFER_WINDOW = timedelta(hours=24)


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


def is_command_word(settings: Settings, word: str, body: str | None = None) -> bool:
    """Whether `word` (of `body`, when given) may be a command: STOP, START, HELP or YES.

    No database is read: a message that is no command goes straight to keyword matching,
    with nothing to undo (the SMS path then needs no savepoint).
    """
    norm = normalize_keyword(word)
    if not norm or norm not in _command_words(settings.opt_out_words, settings.opt_in_words):
        return False
    return body is None or sum(1 for token in body.split() if normalize_keyword(token)) == 1


@lru_cache(maxsize=8)
def _command_words(opt_out_words: str, opt_in_words: str) -> frozenset[str]:
    return _words(STOP_WORDS, START_WORDS, HELP_WORDS, YES_WORDS, opt_out_words, opt_in_words)


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
    if not is_command_word(ctx.settings, word, body):
        return None
    norm = normalize_keyword(word)
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
    return campaign_of_number(session, number)
