"""Inbound SMS and WhatsApp: keyword matching, replies and the anonymous interaction log."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from campaigns.followups.service import handle_sms_command
from campaigns.registry.cache import (
    CampaignEntry,
    KeywordEntry,
    keyword_candidates,
    keywords_on,
    organisation,
)
from campaigns.registry.enums import Attribution, Channel, Gateway, InteractionKind
from campaigns.registry.keywords import (
    display_upper,
    exact_keyword,
    first_word,
    guess_language,
    keyword_accepts,
    message_word,
)
from campaigns.registry.models import Interaction
from outreach.core.context import AppContext
from outreach.core.logs import event
from outreach.core.privacy import Address, country_of

log = logging.getLogger(__name__)

MAX_REPLY = 1600
FALLBACK_DEFAULT = "Text one of: {keywords}."


@dataclass(frozen=True)
class InboundSms:
    message_sid: str
    sender: Address
    to: Address
    body: str
    gateway: Gateway = Gateway.TWILIO

    @property
    def channel(self) -> Channel:
        return Channel.WHATSAPP if self.sender.whatsapp or self.to.whatsapp else Channel.SMS


@dataclass(frozen=True)
class CommandReply:
    """What a command handler (STOP, HELP, YES…) answered, and how to log it."""

    reply: str | None
    kind: InteractionKind
    campaign_id: int | None = None
    language: str | None = None


@dataclass(frozen=True)
class SmsOutcome:
    reply: str | None
    interaction_id: int
    duplicate: bool = False
    kind: InteractionKind | None = None


def handle_inbound_sms(
    session: Session, ctx: AppContext, *, message: InboundSms, now: datetime
) -> SmsOutcome:
    """Answers an inbound message once; a retried MessageSid gets the first answer again.

    Everything the message does (a STOP, an enrolment, its log row) happens in one savepoint
    that ends with the insert of its interaction. A copy of the message racing this one
    (PostgreSQL) then fails that insert on the unique (sid, sender) key: its savepoint is
    undone, side effects and all, and it answers with the first copy's reply.
    """
    contact = ctx.contact_id(message.sender.number)
    previous = _by_sid(session, message.message_sid, contact)
    if previous is not None:
        return _again(previous)
    try:
        with session.begin_nested():
            return _answer(session, ctx, message=message, contact=contact, now=now)
    except IntegrityError:
        existing = _by_sid(session, message.message_sid, contact)
        if existing is None:
            raise
        return _again(existing)


def _again(previous: Interaction) -> SmsOutcome:
    return SmsOutcome(reply=previous.reply, interaction_id=previous.id, duplicate=True)


def _answer(
    session: Session, ctx: AppContext, *, message: InboundSms, contact: str, now: datetime
) -> SmsOutcome:
    word = first_word(message.body)

    # Commands (STOP, HELP, YES…) come before keywords; the follow-up layer answers them.
    command = _command(session, ctx, message=message, contact=contact, word=word, now=now)
    if command is not None:
        return _record(
            session,
            message=message,
            contact=contact,
            now=now,
            reply=command.reply,
            kind=command.kind,
            campaign_id=command.campaign_id,
            language=command.language,
            keyword=None,
            attribution=Attribution.NONE if command.campaign_id is None else Attribution.KEYWORD,
        )

    match = match_keyword(session, number=message.to.number, body=message.body)
    if match is not None:
        keyword, campaign = match
        reply = campaign.replies.get(keyword.language) or next(iter(campaign.replies.values()), "")
        return _record(
            session,
            message=message,
            contact=contact,
            now=now,
            reply=reply,
            kind=InteractionKind.KEYWORD,
            campaign_id=campaign.id,
            language=keyword.language,
            keyword=keyword.normalized,
            attribution=Attribution.KEYWORD,
        )
    language, reply = default_reply(session, number=message.to.number, body=message.body)
    return _record(
        session,
        message=message,
        contact=contact,
        now=now,
        reply=reply,
        kind=InteractionKind.UNMATCHED,
        campaign_id=None,
        language=language,
        keyword=None,
        attribution=Attribution.NONE,
    )


def _command(
    session: Session,
    ctx: AppContext,
    *,
    message: InboundSms,
    contact: str,
    word: str,
    now: datetime,
) -> CommandReply | None:
    """Answers opt-out, opt-in and help words; None when the word is not a command."""

    result = handle_sms_command(
        session,
        ctx,
        sender=message.sender,
        to_number=message.to.number,
        word=word,
        now=now,
        body=message.body,
    )
    if result is None:
        return None
    return CommandReply(
        reply=result.reply,
        kind=result.kind,
        campaign_id=result.campaign_id,
        language=result.language,
    )


def match_keyword(
    session: Session, *, number: str, body: str
) -> tuple[KeywordEntry, CampaignEntry] | None:
    """Finds the campaign keyword on this number that the message's first word matches.

    An exact match (accents kept) wins over a folded one; a folded match of a keyword that
    folds to a common word of another declared language needs the word alone (keywords.py).
    """
    word = message_word(body)
    if word is None:
        return None
    candidates = keyword_candidates(session, number=number, folded=word.folded)
    exact = [(k, c) for k, c in candidates if exact_keyword(k.keyword) == word.exact]
    for keyword, campaign in exact or candidates:
        if keyword_accepts(
            keyword=keyword.keyword,
            language=keyword.language,
            languages=campaign.languages,
            word=word,
        ):
            return keyword, campaign
    return None


def default_reply(session: Session, *, number: str, body: str) -> tuple[str, str]:
    """Returns (language, text) of the helpful reply to a message that matched nothing."""
    org = organisation(session)
    languages = org.get("languages") or ["en"]
    language = guess_language(body, languages[0])
    templates: dict[str, str] = org.get("default_reply") or {}
    template = templates.get(language) or templates.get(languages[0]) or FALLBACK_DEFAULT
    rows = keywords_on(session, number)
    if not rows:
        # An unknown number: no keywords to list, keep the rest of the message (the hotline).
        return language, template.split("{keywords}")[-1].lstrip(" .:") or template
    own = [(w, lang) for w, lang in rows if lang == language] or [(w, lang) for w, lang in rows]
    listed = ", ".join(dict.fromkeys(display_upper(w, lang) for w, lang in own))
    return language, template.replace("{keywords}", listed)[:MAX_REPLY]


def _by_sid(session: Session, sid: str, contact: str) -> Interaction | None:
    return session.scalar(
        select(Interaction).where(
            Interaction.external_sid == sid, Interaction.contact_id == contact
        )
    )


def _record(
    session: Session,
    *,
    message: InboundSms,
    contact: str,
    now: datetime,
    reply: str | None,
    kind: InteractionKind,
    campaign_id: int | None,
    language: str | None,
    keyword: str | None,
    attribution: Attribution,
) -> SmsOutcome:
    row = Interaction(
        campaign_id=campaign_id,
        channel=message.channel,
        gateway=message.gateway,
        kind=kind,
        attribution=attribution,
        number=message.to.number[:32],
        keyword=keyword,
        language=language,
        contact_id=contact,
        country=country_of(message.sender.number),
        created_at=now,
        external_sid=message.message_sid,
        reply=(reply or None) and reply[:MAX_REPLY],
    )
    session.add(row)
    session.flush()  # a copy of this message recorded first fails here (see handle_inbound_sms)
    event(
        log,
        "sms handled",
        contact=contact,
        channel=str(message.channel),
        gateway=str(message.gateway),
        kind=str(kind),
        campaign_id=campaign_id,
        keyword=keyword,
        language=language,
    )
    return SmsOutcome(reply=reply, interaction_id=row.id, kind=kind)
