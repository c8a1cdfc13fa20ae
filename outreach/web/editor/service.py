"""Checks and saves a submitted campaign form with the registry's one validator."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from starlette.datastructures import FormData

from campaigns.audit.service import Actor
from campaigns.registry import documents
from campaigns.registry import service as registry
from campaigns.registry.changes import StaleVersion
from campaigns.registry.flows import configured_root, stored_root
from campaigns.registry.models import Campaign
from campaigns.registry.schemas import CampaignSpec
from campaigns.registry.validation import Problem, errors_of, validate_campaign
from outreach.core.settings import Settings
from outreach.web.editor.forms import LANGS, Feedback, field_of, parse, segment_counts

STATIC_SLOTS = (
    "form", "code", "name", "medium", "region", "languages", "start", "end", "cost", "currency",
    "timezone", "numbers", "psa_codes", "keywords", "replies", "voice-flow", "followups",
    "followups-sender", "quiet-start", "channels",
    *(f"keywords-{lang}" for lang in LANGS), *(f"reply-{lang}" for lang in LANGS),
)  # fmt: skip


@dataclass
class Checked:
    """A submitted form: its document, the spec when it parses, and what to show."""

    doc: dict[str, Any]
    spec: CampaignSpec | None
    feedback: Feedback
    slots: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.spec is not None and not self.feedback.errors


def stored_document(row: Campaign | None) -> dict[str, Any] | None:
    return documents.document(row) if row is not None else None


def check(
    session: Session, settings: Settings, form: FormData, existing: Campaign | None
) -> Checked:
    """Parses and validates a form as the API and the YAML loader would, saving nothing."""
    doc = parse(form, stored_document(existing))
    feedback = Feedback()
    problems: list[Problem] = []
    spec = None
    try:
        spec = CampaignSpec.model_validate(doc)
    except ValidationError as exc:
        problems = errors_of(exc)
    if spec is not None:
        root = (
            stored_root(existing.options or {}, settings) if existing else configured_root(settings)
        )
        exclude = [existing.code] if existing is not None else []
        index = registry.registry_index(session, exclude=exclude)
        problems = validate_campaign(spec, flows_root=root, registry=index)
        if existing is None and registry.get_campaign(session, spec.code) is not None:
            problems.append(Problem("code", 0, f"campaign {spec.code} exists", ("code",)))
        if existing is not None and spec.code != existing.code:
            problems.append(Problem("code", 0, "the code of a campaign cannot change", ("code",)))
    for problem in problems:
        feedback.add(field_of(problem.loc, doc) or "form", problem.message)
    feedback.segments = segment_counts(form)
    return Checked(doc, spec, feedback, [*STATIC_SLOTS, *_dynamic_slots(form)])


def _dynamic_slots(form: FormData) -> list[str]:
    names = []
    for key in form:
        if key.startswith("series-"):
            parts = key.split("-")
            names.append(f"series-{parts[1]}-id")
            if len(parts) > 3 and parts[2] == "msg":
                names.append(f"series-{parts[1]}-msg-{parts[3]}")
    return list(dict.fromkeys(names))


BUSY = "another save of this campaign is under way; reload it and try again"


class SaveRefused(Exception):
    """A save that did not happen; `status` is the HTTP status, the message says why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def save(
    session: Session, settings: Settings, checked: Checked, existing: Campaign | None, actor: Actor
) -> Campaign:
    """Saves a checked form (the API's save), or raises SaveRefused."""
    if checked.spec is None or not checked.ok:
        raise SaveRefused(422, "the campaign has errors: see the fields marked")
    try:
        with session.begin_nested():
            return registry.save_campaign(
                session,
                checked.spec,
                flows_root=configured_root(settings),
                default_timezone=settings.default_timezone,
                actor=actor,
                existing=existing,
            )
    except registry.InvalidCampaign as exc:
        for problem in exc.problems:
            checked.feedback.add(field_of(problem.loc, checked.doc) or "form", problem.message)
        raise SaveRefused(422, "the campaign has errors: see the fields marked") from exc
    except StaleVersion as exc:
        raise SaveRefused(409, str(exc)) from exc
    except StaleDataError as exc:
        raise SaveRefused(409, "another save of this campaign came first; reload it") from exc
    except IntegrityError as exc:
        raise SaveRefused(409, f"campaign {checked.spec.code} exists") from exc
    except OperationalError as exc:  # waited too long for another save of the same campaign
        raise SaveRefused(409, BUSY) from exc
