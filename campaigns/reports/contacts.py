"""Contact sets: numbers contact ids densely (members of the Roaring bitmaps), tracks first
contact, and ORs each day's contacts into the day's sets."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select, tuple_
from sqlalchemy.orm import Session

from campaigns.reports import bitsets
from campaigns.reports.models import ReportContact, RollupPeople, RollupSet, table_of
from campaigns.reports.sources.base import PeopleRow

SEEN, FIRST = "seen", "first"
SetKey = tuple[date, str, int, str, str]
PeopleKey = tuple[date, int, str, str, str, str]  # day, campaign, channel, language, metric, key


class ContactNumbering:
    """Maps contact ids to ReportContact ids, creating them (ids are assigned here, under
    the rollup lock, so new contacts are inserted in bulk without a round trip each)."""

    def __init__(
        self, session: Session, *, known: dict[str, int] | None = None, fresh: bool = False
    ) -> None:
        self.session = session
        self.known = known if known is not None else {}
        self.fresh = fresh
        self.firsts: dict[int, datetime] = {}  # new or earlier first contact: number -> time
        self.moved: dict[int, datetime] = {}  # number -> the first-seen it had before

    def resolve(self, rows: list[tuple[datetime, int, str, str, str]]) -> list[int]:
        """Returns the number of each row's contact, numbering new contacts."""
        earliest: dict[str, datetime] = {}
        for at, *_rest, contact in rows:
            if contact not in earliest or at < earliest[contact]:
                earliest[contact] = at
        first_seen: dict[str, datetime] = {}
        if not self.fresh:
            self._load([c for c in earliest if c not in self.known], first_seen)
        next_id = self._next_id()
        new_rows = []
        for contact, at in earliest.items():
            number = self.known.get(contact)
            if number is None:
                number = self.known[contact] = next_id
                next_id += 1
                new_rows.append({"id": number, "contact_id": contact, "first_seen": at})
                self.firsts[number] = at
            elif contact in first_seen and at < first_seen[contact]:
                # A late row older than the contact's first known interaction.
                row = self.session.get(ReportContact, number)
                if row is not None:
                    self.moved[number] = row.first_seen
                    row.first_seen = at
                    self.firsts[number] = at
        for i in range(0, len(new_rows), 5000):
            self.session.execute(insert(table_of(ReportContact)), new_rows[i : i + 5000])
        return [self.known[row[-1]] for row in rows]

    def lookup(self, contacts: set[str]) -> dict[str, int]:
        """Returns the numbers of contacts already numbered (never numbers new ones)."""
        missing = [c for c in contacts if c not in self.known]
        if missing and not self.fresh:
            self._load(missing, {})
        return {c: self.known[c] for c in contacts if c in self.known}

    def _next_id(self) -> int:
        return int(self.session.scalar(select(func.max(ReportContact.id))) or 0) + 1

    def _load(self, contacts: list[str], first_seen: dict[str, datetime]) -> None:
        for i in range(0, len(contacts), 500):
            chunk = contacts[i : i + 500]
            query = select(ReportContact.contact_id, ReportContact.id, ReportContact.first_seen)
            for contact, number, seen in self.session.execute(
                query.where(ReportContact.contact_id.in_(chunk))
            ):
                self.known[contact] = number
                first_seen[contact] = seen


def fold_contacts(
    session: Session,
    rows: list[tuple[datetime, int, str, str, str]],
    *,
    zone: ZoneInfo,
    known: dict[str, int] | None = None,
    fresh: bool = False,
) -> None:
    """ORs the rows' contacts into the day sets, numbering contacts seen for the first time."""
    if not rows:
        return
    numbering = ContactNumbering(session, known=known, fresh=fresh)
    ids = numbering.resolve(rows)
    additions: dict[SetKey, list[int]] = defaultdict(list)
    for (at, campaign_id, channel, language, _contact), number in zip(rows, ids, strict=True):
        additions[(at.astimezone(zone).date(), SEEN, campaign_id, channel, language)].append(number)
    for number, at in numbering.firsts.items():
        additions[(at.astimezone(zone).date(), FIRST, -1, "*", "*")].append(number)
    removals: dict[SetKey, list[int]] = defaultdict(list)
    for number, old in numbering.moved.items():
        removals[(old.astimezone(zone).date(), FIRST, -1, "*", "*")].append(number)
    _write_sets(session, additions, removals, fresh=fresh)


def _write_sets(
    session: Session,
    additions: dict[SetKey, list[int]],
    removals: dict[SetKey, list[int]],
    *,
    fresh: bool,
) -> None:
    keys = set(additions) | set(removals)
    existing: dict[SetKey, RollupSet] = {}
    if not fresh:
        for key in keys:
            row = session.get(RollupSet, key)
            if row is not None:
                existing[key] = row
    new_rows = []
    for key in keys:
        row = existing.get(key)
        bits = bitsets.decode(row.members) if row is not None else bitsets.BitMap()
        bits |= bitsets.from_members(additions.get(key, []))
        gone = removals.get(key)
        if gone:
            bits -= bitsets.from_members(gone)
        if row is not None:
            row.members, row.size = bitsets.encode(bits), len(bits)
        else:
            day, kind, campaign_id, channel, language = key
            new_rows.append(
                {
                    "day": day,
                    "kind": kind,
                    "campaign_id": campaign_id,
                    "channel": channel,
                    "language": language,
                    "members": bitsets.encode(bits),
                    "size": len(bits),
                }
            )
    if new_rows:
        session.execute(insert(table_of(RollupSet)), new_rows)
    session.flush()


def fold_people(
    session: Session,
    rows: list[PeopleRow],
    *,
    zone: ZoneInfo,
    known: dict[str, int] | None = None,
) -> None:
    """ORs the people behind counts into their day sets (rollup_people).

    Contacts are numbered by their interactions, folded first; one with no interaction
    yet is left out, which can only make a count look as if fewer people were behind it.
    """
    if not rows:
        return
    numbers = ContactNumbering(session, known=known).lookup({r[-1] for r in rows})
    additions: dict[PeopleKey, list[int]] = defaultdict(list)
    for at, campaign_id, channel, language, metric, key, contact in rows:
        number = numbers.get(contact)
        if number is not None:
            day = at.astimezone(zone).date()
            additions[(day, campaign_id, channel, language, metric, key[:64])].append(number)
    existing: dict[PeopleKey, RollupPeople] = {}
    p = RollupPeople
    columns = tuple_(p.day, p.campaign_id, p.channel, p.language, p.metric, p.key)
    keys = list(additions)
    for i in range(0, len(keys), 500):
        for row in session.scalars(select(p).where(columns.in_(keys[i : i + 500]))):
            existing[(row.day, row.campaign_id, row.channel, row.language, row.metric, row.key)] = (
                row
            )
    new_rows: list[dict[str, object]] = []
    for ident, members in additions.items():
        bits = bitsets.from_members(members)
        have = existing.get(ident)
        if have is not None:
            bits |= bitsets.decode(have.members)
            if len(bits) != have.size:
                have.members, have.size = bitsets.encode(bits), len(bits)
            continue
        day, campaign_id, channel, language, metric, key = ident
        new_rows.append(
            {
                "day": day,
                "campaign_id": campaign_id,
                "channel": channel,
                "language": language,
                "metric": metric,
                "key": key,
                "members": bitsets.encode(bits),
                "size": len(bits),
            }
        )
    for i in range(0, len(new_rows), 5000):
        session.execute(insert(table_of(RollupPeople)), new_rows[i : i + 5000])
    session.flush()
