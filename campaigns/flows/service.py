"""Stored voice flows: save a version, publish one, restore one, and load a version for a call.

Versions are immutable, so a call that records its version id keeps hearing that version after
a publish. Publishing is one UPDATE of `flows.live_version_id`: every call that starts after it
gets the new version, every call before it the old one, never a mix.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Mapping

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from campaigns.flows.models import FlowAttachment, FlowVersion, StoredFlow
from ivr_flows.loader import check_text
from ivr_flows.model import Flow, Issue
from ivr_flows.prompts import with_audio

SAVE_ATTEMPTS = 20
MAX_NOTE = 200


class FlowRefused(ValueError):
    """A flow source that cannot be saved; carries every issue (with its line)."""

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = issues
        super().__init__("; ".join(str(i) for i in issues[:5]))


class UnknownVersion(LookupError):
    """No such flow, or no such version of it."""


def checked(source: str, key: str | None = None) -> Flow:
    """Parses and validates a source (the `outreach flows validate` checks) or raises."""
    flow, issues = check_text(source)
    if flow is not None and key is not None and flow.id != key and not issues:
        issues = [Issue("id", f"this flow is '{key}'; its id cannot change (copy it instead)", 1)]
    if flow is None or issues:
        raise FlowRefused(issues or [Issue("(file)", "not a flow")])
    return flow


def get_flow(session: Session, key: str) -> StoredFlow:
    stored = session.scalar(select(StoredFlow).where(StoredFlow.key == key))
    if stored is None:
        raise UnknownVersion(f"no flow {key!r}")
    return stored


def ensure_flow(session: Session, key: str, title: str) -> StoredFlow:
    stored = session.scalar(select(StoredFlow).where(StoredFlow.key == key))
    if stored is not None:
        return stored
    try:
        with session.begin_nested():
            stored = StoredFlow(key=key, title=title[:200])
            session.add(stored)
    except IntegrityError:
        # Created at the same moment by another request: use that one.
        return get_flow(session, key)
    return stored


def lock_flow(session: Session, flow: StoredFlow) -> StoredFlow:
    """Locks the flow's row until the transaction ends (PostgreSQL; SQLite's unit of work
    already holds the write lock), so saves of one flow are numbered and compared in turn."""
    locked = session.scalar(select(StoredFlow).where(StoredFlow.id == flow.id).with_for_update())
    return locked if locked is not None else flow


def latest(session: Session, flow: StoredFlow) -> FlowVersion | None:
    return session.scalar(
        select(FlowVersion)
        .where(FlowVersion.flow_id == flow.id)
        .order_by(FlowVersion.number.desc())
        .limit(1)
    )


def save_version(
    session: Session,
    *,
    source: str,
    user: str,
    key: str | None = None,
    note: str = "",
    audio: Mapping[str, str] | None = None,
) -> FlowVersion:
    """Saves a valid source as the flow's next version (the flow is created on first save).

    `audio` is the recordings of the new version; by default the latest version's carry over.
    Twenty saves at once get twenty distinct numbers: a number taken by another request (the
    unique (flow, number)) is retried with the next one.
    """
    flow = checked(source, key)
    stored = lock_flow(session, ensure_flow(session, flow.id, flow.title))
    for _ in range(SAVE_ATTEMPTS):
        previous = latest(session, stored)
        number = (previous.number if previous is not None else 0) + 1
        chosen = dict(audio if audio is not None else (previous.audio if previous else {}))
        version = FlowVersion(
            flow_id=stored.id,
            number=number,
            source=source,
            audio=chosen,
            note=note[:MAX_NOTE],
            created_by=user[:64],
        )
        try:
            with session.begin_nested():
                session.add(version)
        except IntegrityError:
            continue
        stored.title = flow.title[:200]
        return version
    raise RuntimeError(f"could not number a new version of {flow.id!r}")


def version(session: Session, key: str, number: int) -> FlowVersion:
    stored = get_flow(session, key)
    found = session.scalar(
        select(FlowVersion).where(FlowVersion.flow_id == stored.id, FlowVersion.number == number)
    )
    if found is None:
        raise UnknownVersion(f"flow {key!r} has no version {number}")
    return found


def versions(session: Session, key: str) -> list[FlowVersion]:
    stored = get_flow(session, key)
    query = select(FlowVersion).where(FlowVersion.flow_id == stored.id)
    return list(session.scalars(query.order_by(FlowVersion.number.desc())))


def publish(session: Session, *, key: str, number: int) -> FlowVersion:
    """Makes a version the live one: a single UPDATE, so calls see the old or the new one."""
    chosen = version(session, key, number)
    session.execute(
        update(StoredFlow)
        .where(StoredFlow.id == chosen.flow_id)
        .values(live_version_id=chosen.id)
        .execution_options(synchronize_session=False)
    )
    session.expire_all()
    return chosen


def restore(session: Session, *, key: str, number: int, user: str) -> FlowVersion:
    """Saves an old version again as the newest one (its source and its recordings)."""
    old = version(session, key, number)
    return save_version(
        session,
        source=old.source,
        user=user,
        key=key,
        note=f"restored from version {number}",
        audio=old.audio,
    )


def live_version(session: Session, key: str) -> FlowVersion | None:
    stored = session.scalar(select(StoredFlow).where(StoredFlow.key == key))
    if stored is None or stored.live_version_id is None:
        return None
    return session.get(FlowVersion, stored.live_version_id)


def attached_version(
    session: Session, *, campaign_id: int | None = None, hotline_id: int | None = None
) -> tuple[str, int | None] | None:
    """(flow key, live version id) of the flow a campaign or hotline is attached to, or None."""
    column = FlowAttachment.campaign_id if campaign_id is not None else FlowAttachment.hotline_id
    owner = campaign_id if campaign_id is not None else hotline_id
    if owner is None:
        return None
    found = session.execute(
        select(StoredFlow.key, StoredFlow.live_version_id)
        .join(FlowAttachment, FlowAttachment.flow_id == StoredFlow.id)
        .where(column == owner)
    ).first()
    return (found[0], found[1]) if found is not None else None


def version_numbers(session: Session, key: str) -> dict[int, int]:
    """Maps each version id of a flow to its number (for reports that name the version)."""
    query = (
        select(FlowVersion.id, FlowVersion.number)
        .join(StoredFlow, StoredFlow.id == FlowVersion.flow_id)
        .where(StoredFlow.key == key)
    )
    return {vid: number for vid, number in session.execute(query)}


def count_versions(session: Session, flow: StoredFlow) -> int:
    query = select(func.count()).where(FlowVersion.flow_id == flow.id)
    return int(session.scalar(query) or 0)


def media_url(public_url: str, token: str) -> str:
    """The unguessable address Twilio (and the browser) fetch a recording from."""
    return f"{public_url.rstrip('/')}/media/{token}.wav"


_FLOWS: OrderedDict[tuple[str, str], Flow] = OrderedDict()
CACHED_VERSIONS = 256


def flow_of(row: FlowVersion, public_url: str) -> Flow:
    """The engine's flow of a version, its recordings laid over the prompts (cached by content:
    a version never changes, and ids alone may repeat across databases in one process)."""
    content = json.dumps([row.source, sorted((row.audio or {}).items())], ensure_ascii=False)
    cache_key = (hashlib.sha256(content.encode()).hexdigest(), public_url)
    cached = _FLOWS.get(cache_key)
    if cached is not None:
        _FLOWS.move_to_end(cache_key)
        return cached
    flow = checked(row.source)
    urls = {slot: media_url(public_url, token) for slot, token in (row.audio or {}).items()}
    flow = with_audio(flow, urls)
    _FLOWS[cache_key] = flow
    if len(_FLOWS) > CACHED_VERSIONS:
        _FLOWS.popitem(last=False)
    return flow


def load_version(session: Session, version_id: int, public_url: str) -> Flow:
    row = session.get(FlowVersion, version_id)
    if row is None:
        raise UnknownVersion(f"no flow version {version_id}")
    return flow_of(row, public_url)
