"""The SMS background job: replies queued for a send API that was down (campaigns.sms.replies)."""

from __future__ import annotations

from campaigns.sms.replies import send_due_replies
from outreach.core.scheduling import Every, Job
from outreach.core.settings import Settings

REPLY_RETRIES = "sms-reply-retries"
MIN_INTERVAL_SECONDS = 0.1


def jobs(settings: Settings) -> list[Job]:
    """Declares the reply retries where a gateway answers through a send API (the HTTP
    channel's OUTREACH_HTTP_CHANNEL_SEND_URL): at start, then every dispatch tick."""
    if not settings.http_channel_send_url:
        return []
    every = Every(max(MIN_INTERVAL_SECONDS, settings.dispatch_interval_seconds))
    return [Job(REPLY_RETRIES, every, send_due_replies, at_start=True)]
