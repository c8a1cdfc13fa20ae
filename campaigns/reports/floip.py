"""FLOIP Flow Results packages: one per voice flow, rows from the calls' recorded results.

Each row is one answer: the call's CallSid is the session, the keyed hash the contact.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from pathlib import Path

import pycountry
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.flows.service import checked, live_version, version_numbers
from campaigns.registry.models import Campaign
from campaigns.reports.schemas import (
    FloipAttributes,
    FloipData,
    FloipField,
    FloipPackage,
    FloipResource,
    FloipResponses,
    FloipRow,
    FloipSchema,
)
from campaigns.voice.models import Call, CallEvent, CallEventKind
from ivr_flows.loader import FlowPathError, load_flow, resolve_flow_path
from ivr_flows.model import Flow

SPEC_VERSION = "1.0.0-rc1"
FIELDS = [
    FloipField(name="timestamp", title="Timestamp", type="datetime"),
    FloipField(name="row_id", title="Row ID", type="string"),
    FloipField(name="contact_id", title="Contact ID", type="string"),
    FloipField(name="session_id", title="Session ID", type="string"),
    FloipField(name="question_id", title="Question ID", type="string"),
    FloipField(name="response", title="Response", type="any"),
    FloipField(name="response_metadata", title="Response Metadata", type="object"),
]


class UnknownFlow(LookupError):
    """No call and no campaign uses a flow with this id."""


def package_id(flow_id: str) -> str:
    """A stable UUID (version 4 layout) per flow, so repeated exports name the same package."""
    digest = bytearray(hashlib.sha256(f"outreach-flow:{flow_id}".encode()).digest()[:16])
    return str(uuid.UUID(bytes=bytes(digest), version=4))


def find_flow(session: Session, flow_id: str) -> Flow:
    """Loads the flow definition a flow id names (stored live version, its calls, campaigns)."""
    stored = live_version(session, flow_id)
    if stored is not None:
        return checked(stored.source)
    paths = list(
        session.scalars(
            select(Call.flow_file).where(Call.flow_id == flow_id).order_by(Call.id.desc()).limit(1)
        )
    )
    for campaign in session.scalars(select(Campaign)):
        voice = campaign.options.get("voice") or {}
        source = campaign.options.get("source_dir")
        if voice.get("flow") and source:
            try:
                paths.append(str(resolve_flow_path(Path(str(source)), str(voice["flow"]))))
            except FlowPathError:
                continue
    for path in paths:
        try:
            flow = load_flow(Path(path))
        except Exception:  # noqa: S112 - a missing or broken file: try the next candidate
            continue
        if flow.id == flow_id:
            return flow
    raise UnknownFlow(f"no voice flow {flow_id!r}")


def iso639_3(code: str) -> str | None:
    """Returns the ISO 639-3 code FLOIP wants for a flow's language (az -> aze), if it is one."""
    # By code only: a name lookup would read "en" as the En language (enc).
    field = {2: "alpha_2", 3: "alpha_3"}.get(len(code))
    language = pycountry.languages.get(**{field: code.lower()}) if field else None
    return str(language.alpha_3) if language is not None else None


def descriptor(
    flow: Flow, *, now: datetime, path: str | None = None, api_data_url: str | None = None
) -> FloipPackage:
    """Builds the package descriptor; its data is a file `path` or at `api_data_url`."""
    questions = {
        q.id: {
            "type": "select_one",
            "label": q.label or q.id,
            "type_options": {"choices": [value for value, _label in q.choices]},
        }
        for q in flow.questions()
    }
    stamp = now.isoformat(timespec="seconds")
    name = "".join(c if c.isalnum() or c in "-_." else "-" for c in flow.id.lower())
    resource = FloipResource(
        name=f"{name}-responses",
        path=path,
        api_data_url=api_data_url,
        schema=FloipSchema.model_validate(
            {
                "language": iso639_3(flow.default_language),
                "fields": FIELDS,
                "questions": questions,
            }
        ),
    )
    return FloipPackage(
        profile="flow-results-package",
        flow_results_specification_version=SPEC_VERSION,
        created=stamp,
        modified=stamp,
        id=package_id(flow.id),
        name=name,
        title=flow.title or flow.id,
        resources=[resource],
    )


def responses(flow: Flow, rows: list[FloipRow]) -> FloipResponses:
    """Wraps answer rows as the FLOIP data API returns them."""
    return FloipResponses(
        data=FloipData(
            type="flow-results-data",
            id=package_id(flow.id),
            attributes=FloipAttributes(responses=rows),
        )
    )


def rows(session: Session, *, flow: Flow, start: datetime, end: datetime) -> list[FloipRow]:
    """Returns the answer rows of the flow's calls started in [start, end)."""
    wanted = {q.id for q in flow.questions()}
    codes: dict[int, str] = {i: c for i, c in session.execute(select(Campaign.id, Campaign.code))}
    versions = version_numbers(session, flow.id)
    query = (
        select(CallEvent, Call)
        .join(Call, Call.id == CallEvent.call_id)
        .where(
            Call.flow_id == flow.id,
            Call.simulated.is_(False),
            Call.started_at >= start,
            Call.started_at < end,
            CallEvent.kind == CallEventKind.RESULT,
        )
        .order_by(CallEvent.created_at, CallEvent.id)
    )
    out: list[FloipRow] = []
    for event, call in session.execute(query.execution_options(yield_per=5000)):
        if event.question_id not in wanted:
            continue
        meta = {
            "node": event.node,
            "language": call.language,
            "campaign": codes.get(call.campaign_id or 0),
            # The stored flow version the call ran on (None: a flow file read from disk).
            "flow_version": versions.get(call.flow_version_id or 0),
        }
        out.append(
            (
                event.created_at.isoformat(),
                str(event.id),
                call.contact_id,
                call.call_sid,
                str(event.question_id),
                event.value,
                meta,
            )
        )
    return out
