"""The voice background job: missed-call callbacks that failed for a passing reason."""

from __future__ import annotations

from campaigns.voice.callbacks import retry_pending_callbacks
from outreach.core.scheduling import Every, Job
from outreach.core.settings import Settings

CALLBACK_RETRIES = "voice-callback-retries"


def jobs(settings: Settings) -> list[Job]:
    """Declares the callback retries, every OUTREACH_CALLBACK_RETRY_SECONDS (0: off)."""
    if settings.callback_retry_seconds <= 0:
        return []
    return [Job(CALLBACK_RETRIES, Every(settings.callback_retry_seconds), retry_pending_callbacks)]
