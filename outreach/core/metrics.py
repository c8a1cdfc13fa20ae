"""Prometheus metrics of the service: defined here, so every layer may count without new imports.

Counters and histograms live in this process (or, with PROMETHEUS_MULTIPROC_DIR set before the
process starts, in files shared by every process of one host, summed at scrape time: the
prometheus-client multiprocess mode). Numbers that live in the database (the outbox backlog,
each job's last success) are read by `/metrics` itself when scraped (outreach/web/ops.py), so
they are right whichever process did the work.

Labels are small closed sets (route templates, enumerations), never a number, a body or an id.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST
_PENDING = "outreach_metrics_pending"

# Twilio waits 15 s for a webhook; the buckets resolve the fast path and the slow tail.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0)

HTTP_REQUESTS = Counter(
    "outreach_http_requests",
    "HTTP requests answered, by method, route template and status code.",
    ["method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "outreach_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and route template.",
    ["method", "route"],
    buckets=LATENCY_BUCKETS,
)
WEBHOOK_OUTCOMES = Counter(
    "outreach_webhook_outcomes",
    "Twilio webhooks by outcome: sms matched / unmatched / command / duplicate / apology; "
    "voice not_in_service / missed_call / apology (calls started: outreach_calls_started).",
    ["webhook", "outcome"],
)
CALLS_STARTED = Counter(
    "outreach_calls_started", "Calls whose flow started, by direction.", ["direction"]
)
CALLS_ENDED = Counter(
    "outreach_calls_ended",
    "Calls that ended, by outcome (completed, hung_up, transferred, after_hours, error).",
    ["outcome"],
)
SENDS = Counter(
    "outreach_sends",
    "Follow-up send attempts by result (sent, retried, failed, cancelled, deferred, released) "
    "and channel.",
    ["channel", "status"],
)
REPLIES = Counter(
    "outreach_replies",
    "Attempts to send a queued reply through a gateway's send API, by gateway and result "
    "(sent, pending: to be retried, failed).",
    ["gateway", "status"],
)
DELIVERY_STATUSES = Counter(
    "outreach_delivery_statuses",
    "Delivery status callbacks received from Twilio, by MessageStatus.",
    ["status"],
)
FLOW_LOAD_ERRORS = Counter(
    "outreach_flow_load_errors", "Calls answered with the apology because a flow file failed."
)
JOB_RUNS = Counter(
    "outreach_job_runs",
    "Background job runs in this process, by job and result (ok, error).",
    ["job", "result"],
)


def count_on_commit(session: Session, counter: Counter) -> None:
    """Increments `counter` (a labelled child) once the session's transaction commits.

    Domain code counts inside a request's unit of work; a rolled-back attempt (a retried
    webhook, a racing copy of the request, a savepoint undone) then counts nothing.
    """
    current = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(_PENDING, []).append((current, counter))


@event.listens_for(Session, "after_commit")
def _apply_pending(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: its counts wait for the real commit
    for _transaction, counter in session.info.pop(_PENDING, ()):
        counter.inc()


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, previous: SessionTransaction) -> None:
    pending = session.info.get(_PENDING)
    if pending:
        pending[:] = [(tx, c) for tx, c in pending if not _within(tx, previous)]


def _within(transaction: SessionTransaction | None, outer: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is outer:
            return True
        transaction = transaction.parent
    return False


def multiprocess_dir() -> str | None:
    """The shared metrics folder of the multiprocess mode, when the process runs in it."""
    return os.environ.get(MULTIPROC_ENV) or None


def exposition(*extra: Collector) -> bytes:
    """Renders every metric (all processes' in multiprocess mode) plus `extra` collectors."""
    if multiprocess_dir():
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
    else:
        registry = CollectorRegistry()
        registry.register(_Default())
    for collector in extra:
        registry.register(collector)
    return generate_latest(registry)


class _Default(Collector):
    """This process's metrics (the default registry: ours, the process's and Python's)."""

    def collect(self):  # type: ignore[no-untyped-def]
        return REGISTRY.collect()
