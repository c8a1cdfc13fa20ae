"""Raw logs that feed the report rollups, one module per feature, listed in SOURCES."""

from __future__ import annotations

from campaigns.registry.models import Interaction
from campaigns.reports.sources.base import Source
from campaigns.reports.sources.followups import FOLLOWUP_SOURCES
from campaigns.reports.sources.interactions import InteractionSource
from campaigns.reports.sources.voice import CallSource
from campaigns.voice.models import Call

SOURCES: list[Source] = [
    InteractionSource("interactions", Interaction),
    # Calls change while in progress: refresh recounts the hours around the last refresh.
    CallSource("calls", Call, time_attr="started_at"),
    *FOLLOWUP_SOURCES,
]
