"""What an effect handler is given: one effect the flow engine reported during a call step."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from campaigns.voice.models import Call
from ivr_flows.actions import Effect
from outreach.core.context import AppContext


@dataclass(frozen=True)
class EffectEvent:
    session: Session
    ctx: AppContext
    call: Call
    effect: Effect
    caller: str | None  # the caller's number, in clear, only for this call of the handler
    now: datetime


EffectHandler = Callable[[EffectEvent], None]
