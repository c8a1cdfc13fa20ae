"""Numbers contact ids densely (bit positions in contact sets) and tracks first contact."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from campaigns.reports.models import ReportContact, table_of


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
