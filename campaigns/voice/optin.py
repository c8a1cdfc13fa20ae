"""The voice opt-in: the flow's opt-in node ("press 1 to get this by SMS") enrols the caller."""

from __future__ import annotations

import logging

from campaigns.followups.service import opt_in
from campaigns.registry.enums import Channel
from campaigns.voice.schemas import EffectEvent

log = logging.getLogger(__name__)


def on_opt_in(event: EffectEvent) -> None:
    """Schedules the series named by the opt-in node for the caller (runs in the call's step)."""
    call = event.call
    if event.caller is None or call.campaign_id is None:
        log.warning(
            "voice opt-in without a caller number or campaign; nothing scheduled",
            extra={"contact": call.contact_id},
        )
        return
    opt_in(
        event.session,
        event.ctx,
        campaign_id=call.campaign_id,
        number=event.caller,
        language=call.language,
        channel=Channel.VOICE,
        now=event.now,
        series_id=event.effect.data.get("series") or None,
        sender=call.number,
        source="voice_key",
    )
