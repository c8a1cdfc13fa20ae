"""Operations endpoints: /healthz (liveness), /readyz (readiness) and /metrics (Prometheus).

/metrics answers 404 while OUTREACH_METRICS_TOKEN is empty (metrics are off) and 401 without
`Authorization: Bearer <token>`; the token is compared in constant time.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Iterator
from datetime import UTC, datetime

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import select

from campaigns.followups.outbox import backlog
from outreach import __version__
from outreach.core.context import AppContext
from outreach.core.health import database_problem
from outreach.core.metrics import CONTENT_TYPE, exposition
from outreach.core.scheduling import JobRun
from outreach.jobs import Heartbeat

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """Liveness: the process answers HTTP (nothing else is checked)."""
    return {"status": "ok", "version": __version__}


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    """Readiness: 200 when the database answers at the schema's head and, where this process
    runs the jobs, its scheduler ticked recently; else 503 with every reason."""
    ctx: AppContext = request.app.state.ctx
    problems = [database_problem(ctx.engine)]
    heartbeat: Heartbeat | None = getattr(request.app.state, "heartbeat", None)
    if heartbeat is not None:
        problems.append(heartbeat.problem())
    reasons = [p for p in problems if p]
    if reasons:
        return JSONResponse({"status": "unavailable", "reasons": reasons}, status_code=503)
    return JSONResponse({"status": "ready", "version": __version__})


@router.get("/metrics")
def metrics(request: Request) -> Response:
    """Prometheus text exposition, behind the bearer token of OUTREACH_METRICS_TOKEN."""
    ctx: AppContext = request.app.state.ctx
    token = ctx.settings.metrics_token
    if not token:
        return Response(status_code=404)
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), token.encode()):
        return Response(status_code=401, headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    return Response(exposition(DatabaseCollector(ctx)), media_type=CONTENT_TYPE)


class DatabaseCollector(Collector):
    """Numbers read from the database at scrape time: right whichever process did the work."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    def describe(self) -> list[Metric]:
        return []  # not read at registration: the queries run only when scraped

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("outreach_database_up", "1 when the scrape could read the database.")
        try:
            families = self._read()
        except Exception as exc:
            log.warning("metrics: database not read", extra={"error": type(exc).__name__})
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _read(self) -> list[Metric]:
        now = datetime.now(UTC)
        with self.ctx.sessions() as session:  # a plain read (session_scope takes the write lock)
            due, oldest = backlog(session, now=now)
            runs = session.execute(select(JobRun.name, JobRun.last_success_at)).all()
        size = GaugeMetricFamily(
            "outreach_outbox_backlog", "Follow-up messages due now and not yet sent."
        )
        size.add_metric([], due)
        age = GaugeMetricFamily(
            "outreach_outbox_oldest_due_age_seconds",
            "How long the oldest due follow-up message has waited (0 when none is due).",
        )
        age.add_metric([], (now - oldest).total_seconds() if oldest else 0.0)
        success = GaugeMetricFamily(
            "outreach_job_last_success_timestamp_seconds",
            "When each background job last succeeded (Unix time; any process).",
            labels=["job"],
        )
        for name, at in runs:
            if at is not None:
                success.add_metric([name], at.timestamp())
        return [size, age, success]
