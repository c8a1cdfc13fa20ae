"""Records what the flow engine reports for a call, and runs the handlers of its effects.

The handlers are listed once, here, in `HANDLERS` (effect kind -> handlers): nothing has to
register them at start. To act on another effect, write a handler beside its feature and add
it to the table. A handler runs inside the step's transaction, in a savepoint (use
`event.session`, do not commit). It gets the caller's number in `event.caller` for that
moment only; store it sealed (ctx.vault) or not at all.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from types import MappingProxyType

from sqlalchemy import Table, update
from sqlalchemy.orm import Session

from campaigns.registry.enums import Attribution
from campaigns.registry.models import Interaction
from campaigns.voice.models import Call, CallEvent, CallEventKind
from campaigns.voice.optin import on_opt_in
from campaigns.voice.schemas import EffectEvent, EffectHandler
from ivr_flows.actions import Effect, EffectKind
from outreach.core.context import AppContext
from outreach.core.metrics import CALLS_ENDED, count_on_commit

log = logging.getLogger(__name__)
_EVENTS: Table = CallEvent.__table__  # type: ignore[assignment]
_INTERACTIONS: Table = Interaction.__table__  # type: ignore[assignment]
# An event to append to a call's trail: (kind, node, question id, value).
NewEvent = tuple[CallEventKind, str, str | None, str | None]


# Every effect handler, by the effect kind it acts on.
HANDLERS: Mapping[EffectKind, tuple[EffectHandler, ...]] = MappingProxyType(
    {EffectKind.OPT_IN: (on_opt_in,)}
)


def _event_fields(effect: Effect) -> tuple[str | None, str | None]:
    """Returns (question_id, value) to store for an effect."""
    data = effect.data
    match effect.kind:
        case EffectKind.RESULT:
            return data.get("question"), data.get("value")
        case EffectKind.WENT_ON:
            return data.get("via"), data.get("to")
        case EffectKind.LANGUAGE:
            return None, data.get("language")
        case EffectKind.PSA_CODE:
            return None, data.get("code")
        case EffectKind.OPT_IN:
            return None, data.get("series") or None
        case EffectKind.TRANSFERRED:
            return None, data.get("status")
        case EffectKind.ENDED:
            return None, data.get("outcome")
    return None, None


def add_event(
    session: Session,
    call: Call,
    kind: CallEventKind,
    node: str,
    now: datetime,
    *,
    question_id: str | None = None,
    value: str | None = None,
) -> None:
    """Appends one row to the call's event trail (see add_events)."""
    add_events(session, call, [(kind, node, question_id, value)], now)


def add_events(session: Session, call: Call, events: Sequence[NewEvent], now: datetime) -> None:
    """Appends rows (kind, node, question id, value) to the call's event trail, at the positions
    the call row counts, with one INSERT of them all: as ORM objects each was an INSERT of its
    own with RETURNING id, which nothing reads."""
    if call.id is None:
        session.flush()  # a call not written yet: its id first
    rows = []
    for kind, node, question_id, value in events:
        if kind is CallEventKind.ENDED:
            count_on_commit(session, CALLS_ENDED.labels(outcome=value or "unknown"))
        position = call.events or 0  # None on a Call not flushed yet: its column default is 0
        call.events = position + 1
        rows.append(
            {
                "call_id": call.id,
                "position": position,
                "node": node[:64],
                "kind": kind,
                "question_id": question_id[:64] if question_id else None,
                "value": value[:64] if value else None,
                "created_at": now,
            }
        )
    if rows:
        # The table's own INSERT (Core), not the ORM's bulk one: that splits the rows into one
        # statement per set of non-null columns. On the session's connection, so it does not
        # autoflush: the call row's changes of this step go out in one UPDATE at the commit.
        session.connection().execute(_EVENTS.insert(), rows)


def apply_effects(
    session: Session,
    ctx: AppContext,
    *,
    call: Call,
    effects: list[Effect],
    psa_campaigns: dict[str, int],
    caller: str | None,
    now: datetime,
) -> None:
    """Stores the effects on the call (and its Interaction row) and runs their handlers."""
    if not effects:
        return
    # The call's Interaction row changes only with a language or a PSA code.
    on_interaction: dict[str, object] = {}
    trail: list[NewEvent] = []
    for effect in effects:
        question_id, value = _event_fields(effect)
        trail.append((CallEventKind(effect.kind.value), effect.node, question_id, value))
        if effect.kind is EffectKind.RESULT and question_id and value:
            call.results = {**call.results, question_id: value}
        elif effect.kind is EffectKind.LANGUAGE and value:
            call.language = value
            on_interaction["language"] = value
        elif effect.kind is EffectKind.PSA_CODE and value:
            call.psa_code = value
            campaign_id = psa_campaigns.get(value)
            if campaign_id is not None:
                call.campaign_id, call.attribution = campaign_id, Attribution.PSA_CODE.value
                on_interaction["campaign_id"] = campaign_id
                on_interaction["attribution"] = Attribution.PSA_CODE
        elif effect.kind is EffectKind.ENDED:
            call.outcome, call.ended_node, call.ended_at = value, effect.node, now
        for handler in HANDLERS.get(effect.kind, ()):
            try:
                with session.begin_nested():
                    handler(EffectEvent(session, ctx, call, effect, caller, now))
            except Exception:
                # A follow-up feature failing must not break the caller's menu.
                log.exception("effect handler failed", extra={"effect": effect.kind.value})
    if on_interaction:
        # One UPDATE of the row (a simulated call has none), not an ORM read and flush of it.
        session.connection().execute(
            update(_INTERACTIONS)
            .where(
                _INTERACTIONS.c.external_sid == call.call_sid,
                _INTERACTIONS.c.contact_id == call.contact_id,
            )
            .values(on_interaction)
        )
    add_events(session, call, trail, now)
