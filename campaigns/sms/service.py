"""Inbound SMS and WhatsApp: keyword matching, replies and the anonymous interaction log."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from campaigns.followups.service import handle_sms_command, is_command_word
from campaigns.registry.cache import (
    TOKEN_COLUMN,
    CampaignEntry,
    KeywordEntry,
    assume_cached,
    keyword_candidates,
    keywords_on,
    organisation,
    still_current,
)
from campaigns.registry.enums import Attribution, Channel, Gateway, InteractionKind
from campaigns.registry.keywords import (
    display_upper,
    first_word,
    guess_language,
    keyword_accepts,
    keyword_forms,
    message_word,
)
from campaigns.registry.models import Interaction
from campaigns.sms.replies import cancel_open_replies
from outreach.core.context import AppContext
from outreach.core.db import insert_ignoring
from outreach.core.logs import event
from outreach.core.privacy import Address

log = logging.getLogger(__name__)

MAX_REPLY = 1600
_TABLE: Table = Interaction.__table__  # type: ignore[assignment]
# The two statements of a message, built once: constructing and cache-keying a statement per
# request cost more than running it.
_BY_SID = select(_TABLE.c.id, _TABLE.c.reply).where(
    _TABLE.c.external_sid == bindparam("sid"), _TABLE.c.contact_id == bindparam("contact")
)
# The insert returns the registry token it saw: a keyword or unmatched text is answered
# from the process's cached registry, checked by that token (see `_answer_text`).
_INSERTS = insert_ignoring(
    _TABLE, _TABLE.c.id, TOKEN_COLUMN, index_elements=["external_sid", "contact_id"]
)
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

    The message's log row is inserted with ON CONFLICT DO NOTHING on the unique (sid,
    sender) key. A copy racing this one (PostgreSQL) waits on that key until the first copy
    commits, inserts nothing and answers with the first copy's reply. A command (STOP, an
    enrolment) has side effects before that insert, so a retried command is looked up first
    and a new one runs in a savepoint that a copy undoes whole. A keyword or an unmatched text
    writes nothing but that row: its insert is the look-up (nothing inserted: a copy).
    """
    contact, country = ctx.identify(message.sender.number)
    caller = (contact, country)
    try:
        if is_command_word(ctx.settings, first_word(message.body), message.body):
            previous = _by_sid(session, message.message_sid, contact)
            if previous is not None:
                return _again(previous)
            with session.begin_nested():
                return _answer(session, ctx, message=message, caller=caller, now=now)
        return _answer_text(session, message=message, caller=caller, now=now)
    except (IntegrityError, _RecordedFirst):
        existing = _by_sid(session, message.message_sid, contact)
        if existing is None:
            raise
        return _again(existing)


class _RecordedFirst(Exception):
    """A copy of this message recorded it first (the insert found its key taken)."""


def _again(previous: tuple[int, str | None]) -> SmsOutcome:
    interaction_id, reply = previous
    return SmsOutcome(reply=reply, interaction_id=interaction_id, duplicate=True)


@dataclass(frozen=True)
class _Answer:
    """What a message is answered and recorded as."""

    reply: str | None
    kind: InteractionKind
    campaign_id: int | None
    language: str | None
    keyword: str | None
    attribution: Attribution


def _answer(
    session: Session,
    ctx: AppContext,
    *,
    message: InboundSms,
    caller: tuple[str, str | None],
    now: datetime,
) -> SmsOutcome:
    word = first_word(message.body)

    # Commands (STOP, HELP, YES…) come before keywords; the follow-up layer answers them.
    command = _command(session, ctx, message=message, word=word, now=now)
    if command is None:
        return _answer_text(session, message=message, caller=caller, now=now)
    if command.kind == InteractionKind.OPT_OUT:
        # STOP at once: replies a send API has not taken yet (any channel's) are not sent.
        cancel_open_replies(session, contact_id=caller[0])
    answer = _Answer(
        reply=command.reply,
        kind=command.kind,
        campaign_id=command.campaign_id,
        language=command.language,
        keyword=None,
        attribution=Attribution.NONE if command.campaign_id is None else Attribution.KEYWORD,
    )
    row_id, _token = _record(session, message=message, caller=caller, now=now, answer=answer)
    return _handled(message, caller, row_id, answer)


def _answer_text(
    session: Session,
    *,
    message: InboundSms,
    caller: tuple[str, str | None],
    now: datetime,
) -> SmsOutcome:
    """Answers a keyword or an unmatched text from the registry, with one statement.

    The process's cached registry is assumed current, so the registry token is not read
    first: the row's INSERT returns the token it saw. If a campaign changed since the cache
    was built (in any process), the text is answered again from the registry of that token
    and its row corrected before the commit. What is recorded and replied is what the
    registry said when the message was recorded, as when the token was read first.
    """
    assume_cached(session)
    answer = _text(session, message)
    row_id, token = _record(session, message=message, caller=caller, now=now, answer=answer)
    if not still_current(session, token):
        fresh = _text(session, message)
        if fresh != answer:
            values = _fields(fresh)
            session.connection().execute(update(_TABLE).where(_TABLE.c.id == row_id), values)
            answer = fresh
    return _handled(message, caller, row_id, answer)


def _text(session: Session, message: InboundSms) -> _Answer:
    """A keyword's campaign reply, or the default reply to a text that matched nothing."""
    match = match_keyword(session, number=message.to.number, body=message.body)
    if match is not None:
        keyword, campaign = match
        reply = campaign.replies.get(keyword.language) or next(iter(campaign.replies.values()), "")
        return _Answer(
            reply=reply,
            kind=InteractionKind.KEYWORD,
            campaign_id=campaign.id,
            language=keyword.language,
            keyword=keyword.normalized,
            attribution=Attribution.KEYWORD,
        )
    language, reply = default_reply(session, number=message.to.number, body=message.body)
    return _Answer(
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
    exact = [(k, c) for k, c in candidates if keyword_forms(k.keyword)[0] == word.exact]
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


def _by_sid(session: Session, sid: str, contact: str) -> tuple[int, str | None] | None:
    # Core, not an ORM load: one row of two columns on the webhook's hot path.
    row = session.connection().execute(_BY_SID, {"sid": sid, "contact": contact}).first()
    return None if row is None else (row.id, row.reply)


def _fields(answer: _Answer) -> dict[str, object]:
    """The interaction row's columns that the answer decides."""
    return {
        "campaign_id": answer.campaign_id,
        "kind": answer.kind,
        "attribution": answer.attribution,
        "keyword": answer.keyword,
        "language": answer.language,
        "reply": (answer.reply or None) and answer.reply[:MAX_REPLY],
    }


def _record(
    session: Session,
    *,
    message: InboundSms,
    caller: tuple[str, str | None],
    now: datetime,
    answer: _Answer,
) -> tuple[int, str | None]:
    """Inserts the message's row; (its id, the registry token the insert saw)."""
    contact, country = caller
    connection = session.connection()
    values = {
        **_fields(answer),
        "channel": message.channel,
        "gateway": message.gateway,
        "number": message.to.number[:32],
        "contact_id": contact,
        "country": country,
        "created_at": now,
        "external_sid": message.message_sid,
    }
    row = connection.execute(_INSERTS[connection.dialect.name], values).first()
    if row is None:
        raise _RecordedFirst  # see handle_inbound_sms
    return row[0], row[1]


def _handled(
    message: InboundSms, caller: tuple[str, str | None], row_id: int, answer: _Answer
) -> SmsOutcome:
    event(
        log,
        "sms handled",
        contact=caller[0],
        channel=str(message.channel),
        gateway=str(message.gateway),
        kind=str(answer.kind),
        campaign_id=answer.campaign_id,
        keyword=answer.keyword,
        language=answer.language,
    )
    return SmsOutcome(reply=answer.reply, interaction_id=row_id, kind=answer.kind)
