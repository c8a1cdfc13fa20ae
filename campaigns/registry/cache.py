"""The registry as the webhooks read it, cached in memory and never stale across processes.

Which campaign owns a number, which keywords it answers, the organisation block: these change
only when a campaign is written, yet every inbound text asked the database for them. A process
keeps one `Snapshot` per database, built under the `registry_version` token it read first.
Each unit of work reads the token once (one primary-key SELECT instead of three joins, or a
column of a statement it sends anyway: `TOKEN_COLUMN`) and rebuilds the snapshot when it
changed. A keyword or unmatched text answers from the cached snapshot first and checks it by
the token its INSERT returns, answering again before its commit if that changed
(`assume_cached`, `still_current`). The token changes (to a fresh random value, never
reused, so a rolled-back write cannot come back) in the same transaction as any write of a
campaign, number, keyword, hotline or registry setting (`models._new_registry_token`), so it
is committed with that write: a request that begins after a campaign write committed, in any
process, reads the new token and the new registry.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import event, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, SessionTransaction

from campaigns.registry.models import (
    REGISTRY_SNAPSHOT,
    REGISTRY_TOKEN,
    Campaign,
    CampaignNumber,
    Hotline,
    Keyword,
    RegistrySetting,
    RegistryVersion,
)
from campaigns.registry.series import FollowupsSpec, parse_followups

ORGANISATION_KEY = "organisation"


@dataclass(frozen=True)
class CampaignEntry:
    """What keyword matching needs of a campaign."""

    id: int
    code: str
    languages: tuple[str, ...]
    replies: Mapping[str, str]
    end_date: date


@dataclass(frozen=True)
class KeywordEntry:
    id: int
    keyword: str
    normalized: str
    language: str


@dataclass(frozen=True)
class Snapshot:
    """The registry at one token. Read only: it is shared by every thread of the process."""

    token: str | None
    organisation: Mapping[str, Any]
    # number -> the campaign that owns it (the first number row, as a LIMIT 1 found it)
    number_campaign: Mapping[str, int]
    # (number, folded keyword) -> candidates, newest campaign end first, then keyword order
    keywords: Mapping[tuple[str, str], tuple[tuple[KeywordEntry, CampaignEntry], ...]]
    # number -> (keyword, language) of every keyword on it, in keyword order
    listed: Mapping[str, tuple[tuple[str, str], ...]]
    # PSA code -> the campaign that declares it (the first by id)
    psa_codes: Mapping[str, int]
    # campaign id -> its time zone; hotline id -> the time zone its options name (or None)
    campaign_timezones: Mapping[int, str]
    hotline_timezones: Mapping[int, str | None]
    # campaign id -> (its follow-ups, parsed; its first number): what an offer needs
    followups: Mapping[int, tuple[FollowupsSpec | None, str | None]]


_BY_ENGINE: WeakKeyDictionary[Engine | Connection, Snapshot] = WeakKeyDictionary()


# Read by every unit of work that looks at the registry: built once (Core, no ORM).
_TOKEN = select(RegistryVersion.__table__.c.token).where(RegistryVersion.__table__.c.id == 1)
# The token as one more column of the statement a unit of work sends first (a voice step's
# call row, a new call's line): read there, it costs no round trip of its own, and the
# snapshot it names is the one that statement saw. Give it to `token_read`.
TOKEN_COLUMN = _TOKEN.scalar_subquery().label("registry_token")


def token_read(session: Session, token: str | None) -> None:
    """Keeps the token a statement of this transaction read (TOKEN_COLUMN) for `snapshot`."""
    if REGISTRY_SNAPSHOT not in session.info:
        session.info[REGISTRY_TOKEN] = token


def assume_cached(session: Session) -> None:
    """Lets this unit of work answer from the process's cached snapshot before any token read.

    Only for work that then reads the token with its own write (TOKEN_COLUMN in a RETURNING)
    and checks it with `still_current` before it commits: the snapshot may be stale.
    """
    if REGISTRY_SNAPSHOT in session.info or REGISTRY_TOKEN in session.info:
        return
    cached = _BY_ENGINE.get(session.get_bind())
    if cached is not None:
        session.info[REGISTRY_SNAPSHOT] = cached


def still_current(session: Session, token: str | None) -> bool:
    """Whether the snapshot this unit of work answered from is the one `token` names.

    If not (a campaign changed since it was built, or it came from a write that was rolled
    back), it is dropped, and the next look-up loads the registry of `token`.
    """
    held: Snapshot | None = session.info.get(REGISTRY_SNAPSHOT)
    if held is not None and token is not None and held.token == token:
        return True
    session.info.pop(REGISTRY_SNAPSHOT, None)
    token_read(session, token)
    return False


def snapshot(session: Session) -> Snapshot:
    """The registry as this unit of work sees it (the token is read once per transaction)."""
    held: Snapshot | None = session.info.get(REGISTRY_SNAPSHOT)
    if held is not None:
        return held
    if REGISTRY_TOKEN in session.info:
        token = session.info.pop(REGISTRY_TOKEN)
    else:
        token = session.connection().execute(_TOKEN).scalar()
    bind = session.get_bind()
    cached = _BY_ENGINE.get(bind)
    if token is not None and cached is not None and cached.token == token:
        held = cached
    else:
        held = _load(session, token)
        if token is not None:  # no row (a schema made without migrations): never cached
            _BY_ENGINE[bind] = held
    session.info[REGISTRY_SNAPSHOT] = held
    return held


def organisation(session: Session) -> dict[str, Any]:
    """The organisation block of the loaded file (empty if none was loaded)."""
    return dict(snapshot(session).organisation)


def campaign_of_number(session: Session, number: str) -> int | None:
    return snapshot(session).number_campaign.get(number)


def keyword_candidates(
    session: Session, *, number: str, folded: str
) -> tuple[tuple[KeywordEntry, CampaignEntry], ...]:
    return snapshot(session).keywords.get((number, folded), ())


def keywords_on(session: Session, number: str) -> tuple[tuple[str, str], ...]:
    return snapshot(session).listed.get(number, ())


def campaign_timezone(session: Session, campaign_id: int) -> str | None:
    return snapshot(session).campaign_timezones.get(campaign_id)


def hotline_timezone(session: Session, hotline_id: int) -> tuple[bool, str | None]:
    """(whether the hotline exists, the time zone its options name)."""
    zones = snapshot(session).hotline_timezones
    return hotline_id in zones, zones.get(hotline_id)


def campaign_followups(
    session: Session, campaign_id: int
) -> tuple[FollowupsSpec | None, str | None] | None:
    """A campaign's follow-ups spec and first number; None for no such campaign."""
    return snapshot(session).followups.get(campaign_id)


def psa_campaigns(session: Session) -> dict[str, int]:
    """Maps every campaign's PSA code to its campaign id."""
    return dict(snapshot(session).psa_codes)


def _load(session: Session, token: str | None) -> Snapshot:
    setting = session.get(RegistrySetting, ORGANISATION_KEY)
    # An archived campaign is off: its numbers and keywords answer as no campaign.
    live = Campaign.archived.is_(False)
    owners: dict[str, int] = {}
    for number, campaign_id in session.execute(
        select(CampaignNumber.number, CampaignNumber.campaign_id)
        .join(Campaign, CampaignNumber.campaign_id == Campaign.id)
        .where(live)
        .order_by(CampaignNumber.id)
    ):
        owners.setdefault(number, campaign_id)
    firsts: dict[int, str] = {}
    for number, campaign_id in session.execute(
        select(CampaignNumber.number, CampaignNumber.campaign_id).order_by(CampaignNumber.id)
    ):
        firsts.setdefault(campaign_id, number)
    psa_codes: dict[str, int] = {}
    zones: dict[int, str] = {}
    followups: dict[int, tuple[FollowupsSpec | None, str | None]] = {}
    for campaign_id, options, zone, archived in session.execute(
        select(Campaign.id, Campaign.options, Campaign.timezone, Campaign.archived).order_by(
            Campaign.id
        )
    ):
        zones[campaign_id] = zone
        followups[campaign_id] = (parse_followups(options or {}), firsts.get(campaign_id))
        for code in [] if archived else (options or {}).get("psa_codes") or []:
            psa_codes.setdefault(str(code), campaign_id)
    hotline_zones = {
        hotline_id: (str(options["timezone"]) if (options or {}).get("timezone") else None)
        for hotline_id, options in session.execute(select(Hotline.id, Hotline.options))
    }
    keywords: defaultdict[tuple[str, str], list[tuple[KeywordEntry, CampaignEntry]]]
    keywords = defaultdict(list)
    listed: defaultdict[str, list[tuple[int, str, str]]] = defaultdict(list)
    campaigns: dict[int, CampaignEntry] = {}
    rows = session.execute(
        select(CampaignNumber.number, Keyword, Campaign)
        .join(Campaign, Keyword.campaign_id == Campaign.id)
        .join(CampaignNumber, CampaignNumber.campaign_id == Campaign.id)
        .where(live)
        .order_by(Campaign.end_date.desc(), Keyword.id)
    )
    for number, kw, campaign in rows:
        entry = campaigns.get(campaign.id)
        if entry is None:
            entry = CampaignEntry(
                id=campaign.id,
                code=campaign.code,
                languages=tuple(str(lang) for lang in campaign.languages),
                replies=dict(campaign.replies or {}),
                end_date=campaign.end_date,
            )
            campaigns[campaign.id] = entry
        word = KeywordEntry(kw.id, kw.keyword, kw.normalized, kw.language)
        keywords[(number, kw.normalized)].append((word, entry))
        listed[number].append((kw.id, kw.keyword, kw.language))
    return Snapshot(
        token=token,
        organisation=dict(setting.value) if setting is not None else {},
        number_campaign=owners,
        keywords={key: tuple(found) for key, found in keywords.items()},
        listed={n: tuple((w, lang) for _, w, lang in sorted(kws)) for n, kws in listed.items()},
        psa_codes=psa_codes,
        campaign_timezones=zones,
        hotline_timezones=hotline_zones,
        followups=followups,
    )


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: SessionTransaction) -> None:
    """A session's snapshot lasts one transaction: the next one reads the token again."""
    if transaction.parent is None:
        session.info.pop(REGISTRY_SNAPSHOT, None)
        session.info.pop(REGISTRY_TOKEN, None)
