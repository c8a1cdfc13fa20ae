"""The follow-ups' background job: the dispatcher, on its tick (run by outreach/jobs.py)."""

from __future__ import annotations

import logging

from campaigns.followups.dispatcher import Dispatcher
from outreach.core.context import AppContext
from outreach.core.scheduling import Every, Job
from outreach.core.settings import Settings

log = logging.getLogger(__name__)

DISPATCH = "followups-dispatch"
MIN_INTERVAL_SECONDS = 0.1


def dispatch_due(ctx: AppContext) -> None:
    """Sends everything due now; a failure is retried on the next tick."""
    report = Dispatcher(ctx).run_until_idle()
    if report.claimed or report.reclaimed:
        log.info(
            "follow-up dispatch",
            extra={
                k: getattr(report, k)
                for k in (
                    "claimed",
                    "sent",
                    "retried",
                    "failed",
                    "cancelled",
                    "deferred",
                    "reclaimed",
                )
            },
        )


def can_send(settings: Settings) -> bool:
    """Says whether any gateway can send (Twilio's credentials, Kannel's sendsms password or an
    HTTP channel's send URL); without one, rows stay pending, not failed."""
    missing = [
        name
        for name, value in (
            ("TWILIO_ACCOUNT_SID", settings.twilio_account_sid),
            ("TWILIO_AUTH_TOKEN", settings.twilio_auth_token),
        )
        if not value
    ]
    if not missing or settings.kannel_password or settings.http_channel_send_url:
        return True
    # Name only what is missing: the demo has its own auth token but no account SID.
    log.warning(
        "%s not set (nor a Kannel or HTTP channel): follow-up messages are kept pending, not sent",
        " and ".join(missing) + (" is" if len(missing) == 1 else " are"),
    )
    return False


def jobs(settings: Settings) -> list[Job]:
    """Declares the dispatcher: at start (a restart sends what fell due), then every tick."""
    if not can_send(settings):
        return []
    every = Every(max(MIN_INTERVAL_SECONDS, settings.dispatch_interval_seconds))
    return [Job(DISPATCH, every, dispatch_due, at_start=True)]
