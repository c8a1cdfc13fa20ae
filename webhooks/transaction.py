"""The one transaction helper of the Twilio edge: each request owns its unit of work."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar, cast

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from outreach.core.context import AppContext
from outreach.core.db import NOT_RUN, WriterBusy, run_if_writer_free, session_scope

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
        except WriterBusy:
            raise  # an inline attempt gives way to the thread pool (see off_the_loop)
        except Exception as exc:
            if budget.take_retry():
                log.warning(
                    "webhook transaction failed; trying once more",
                    extra={"error": type(exc).__name__},
                )
                continue
            return failed(exc)


async def off_the_loop(ctx: AppContext, handler: Callable[[], T]) -> T:
    """Runs a webhook's synchronous database handler from its async endpoint.

    On a SQLite file, when no other thread of the process is writing, the handler runs
    inline on the event loop: its transactions are short, one writer at a time is all SQLite
    allows anyway, and a thread-pool hop per request with dozens of threads queueing for
    the writer lock cost more than the work. Otherwise (PostgreSQL, or a job holding the
    SQLite writer turn) it runs in the thread pool, so the loop never waits on a lock.
    """
    done = run_if_writer_free(ctx.engine, handler)
    if done is not NOT_RUN:
        return cast(T, done)
    return await run_in_threadpool(handler)
