"""The one transaction helper of the Twilio edge: each request owns its unit of work."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.orm import Session

from outreach.core.context import AppContext
from outreach.core.db import session_scope

log = logging.getLogger(__name__)
T = TypeVar("T")

# Twilio drops a webhook that has not answered in 15 s; keep a margin for the network.
TWILIO_TIMEOUT_SECONDS = 15.0
ANSWER_WITHIN_SECONDS = TWILIO_TIMEOUT_SECONDS - 3.0


class Budget:
    """The time a request has left to answer, and its one retry.

    Each database wait is bounded by OUTREACH_DB_LOCK_TIMEOUT_SECONDS; anything after the
    first attempt (a retry, recording a failure) runs only if one more such wait still ends
    before Twilio gives up, so the caller always gets the apology in time.
    """

    def __init__(self, ctx: AppContext, retries: int = 1) -> None:
        self.deadline = time.monotonic() + ANSWER_WITHIN_SECONDS
        self.wait = ctx.settings.db_lock_timeout_seconds
        self.retries = retries

    def has_time(self) -> bool:
        return time.monotonic() + self.wait < self.deadline

    def take_retry(self) -> bool:
        if self.retries <= 0 or not self.has_time():
            return False
        self.retries -= 1
        return True


def in_transaction(
    ctx: AppContext,
    work: Callable[[Session], T],
    *,
    failed: Callable[[Exception], T],
    budget: Budget | None = None,
) -> T:
    """Runs a webhook's work in one transaction, committed here at the edge.

    Domain code inside only flushes and uses savepoints. If anything fails, the commit
    included, everything this attempt did is rolled back (what earlier requests recorded
    stays). The work is tried once more if the budget allows (a conflict with a copy of the
    request, a deadlock, a lock that was held a moment), else the webhook answers with
    `failed(exc)`, called while the exception is handled so that it can log it: polite TwiML
    or a plain 2xx, never a 500 that Twilio would retry.
    """
    budget = budget or Budget(ctx)
    while True:
        try:
            with session_scope(ctx.sessions) as session:
                return work(session)
        except Exception as exc:
            if budget.take_retry():
                log.warning(
                    "webhook transaction failed; trying once more",
                    extra={"error": type(exc).__name__},
                )
                continue
            return failed(exc)
