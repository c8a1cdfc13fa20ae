"""Versions of campaigns: what a change is, a stale save, and a file that would undo an edit.

The database is the one source of truth. A campaign's `version` rises with every change,
whoever makes it; `loaded_version` is the version a campaigns file last set. A file may change
a campaign only while the two are equal (nobody changed it since that file was loaded), unless
it is loaded with force; a save that names an older version than the stored one is stale.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from campaigns.audit.models import AuditEntry
from campaigns.audit.service import Actor, TargetKind, diff, last_change, record
from campaigns.registry.models import Campaign


class StaleVersion(ValueError):
    """A save based on an older version than the stored one."""

    def __init__(self, code: str, *, based_on: int, current: int, last: AuditEntry | None) -> None:
        by = f" by {describe_entry(last)}" if last is not None else ""
        super().__init__(
            f"campaign {code} was changed{by} since you opened it (you edited version "
            f"{based_on}, it is now version {current}); reload it and make your change again"
        )
        self.code, self.based_on, self.current = code, based_on, current


@dataclass(frozen=True)
class FileConflict:
    """A campaign that a file would change although it was changed elsewhere since.

    The message is written when the conflict is found: the transaction that found it is rolled
    back before anyone reads it."""

    code: str
    fields: list[str]
    message: str

    def __str__(self) -> str:
        return self.message


def _conflict_message(code: str, fields: list[str], last: AuditEntry | None) -> str:
    by = f"by {describe_entry(last)}" if last is not None else "outside this file"
    what = ", ".join(last.after or {}) if last is not None and last.after else ""
    return (
        f"campaign {code} was changed {by}{f' ({what})' if what else ''} since this file "
        f"was last loaded; loading it would change {', '.join(fields)}. Export the current "
        "campaigns (outreach campaigns export) and edit that file, or load with --force to "
        "overwrite"
    )


class FileConflicts(ValueError):
    """Campaigns that a file would change over edits made since its last load."""

    def __init__(self, conflicts: list[FileConflict]) -> None:
        super().__init__("; ".join(map(str, conflicts)))
        self.conflicts = conflicts


def describe_entry(entry: AuditEntry) -> str:
    """Says who changed something, where and when: 'alice in the browser at 2027-01-02 10:00'."""
    when = entry.at.strftime("%Y-%m-%d %H:%M UTC")
    return f"{entry.actor} through the {entry.interface} at {when} (version {entry.version})"


def check_base(session: Session, row: Campaign, based_on: int | None) -> None:
    """Refuses a save based on another version than the stored one (None: no check)."""
    if based_on is not None and based_on != row.version:
        last = last_change(session, kind=TargetKind.CAMPAIGN, target=row.code)
        raise StaleVersion(row.code, based_on=based_on, current=row.version, last=last)


def file_conflict(
    session: Session, row: Campaign, before: dict[str, Any], after: dict[str, Any]
) -> FileConflict | None:
    """The conflict when a file would change a campaign someone changed since its last load."""
    fields = diff(before, after)
    if not fields or row.loaded_version == row.version:
        return None
    last = last_change(session, kind=TargetKind.CAMPAIGN, target=row.code)
    return FileConflict(row.code, fields, _conflict_message(row.code, fields, last))


def commit_change(
    session: Session,
    row: Campaign,
    *,
    actor: Actor,
    action: str,
    before: dict[str, Any] | None,
    after: dict[str, Any],
    from_file: bool = False,
) -> bool:
    """Raises the version and records the change when the document changed; returns whether."""
    if before is not None and not diff(before, after):
        if from_file:
            row.loaded_version = row.version
        return False
    if before is not None:
        row.version = row.version + 1
    if from_file:
        row.loaded_version = row.version
    record(
        session,
        actor=actor,
        action=action,
        kind=TargetKind.CAMPAIGN,
        target=row.code,
        before=before,
        after=after,
        version=row.version,
    )
    return True
