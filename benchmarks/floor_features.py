"""What every Outreach webhook carries besides its work, put on the floor (FLOOR_FEATURES=1).

The floor of floor_app.py does a webhook's work and nothing else. Outreach's webhooks also
carry, on every request, things other issues require of the service. This module adds them
to the floor, each one Outreach's own code, so that webhook_bench.py can measure in one run
what they cost by themselves ("floor+features" beside "floor" and "outreach"):

- the middleware of `outreach.app.create_app`, in its order: the request id, the request
  metrics, the body limits, the signed session cookie, the dashboard's write guard and the
  browser security headers;
- the caller's anonymous id from its parsed number (`outreach.core.privacy.identify`: the
  contact id and the country that reports count), and on a call step the check that the
  step comes from the call's caller;
- one scrubbed log event per webhook (`outreach.core.logs.event`), the Prometheus outcome
  counter, and the access log line, as `outreach serve` writes them.

None of this is the webhooks' database work, which is the floor's own.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from fastapi import FastAPI
from starlette.middleware.sessions import SessionMiddleware

from outreach.core.limits import BodyLimits
from outreach.core.logs import event, setup_logging
from outreach.core.metrics import WEBHOOK_OUTCOMES
from outreach.core.privacy import identify
from outreach.core.settings import Settings
from outreach.web.auth.guard import WriteGuard
from outreach.web.request_metrics import RequestMetrics, add_request_id
from outreach.web.security_headers import SecurityHeadersMiddleware

log = logging.getLogger("floor.features")


class Features:
    """The per-request features of an Outreach webhook, for the floor's handlers."""

    def __init__(self, hash_key: str) -> None:
        self.hash_key = hash_key
        self.settings = Settings()
        setup_logging("INFO", "text")

    def caller(self, number: str) -> tuple[str, str | None]:
        """The caller's contact id and country, from the number parsed once."""
        return identify(number, self.hash_key)

    def handled(self, webhook: str, outcome: str, **fields: Any) -> None:
        """The webhook's log event and its outcome counted, as Outreach's handlers do."""
        event(log, f"{webhook} handled", **fields)
        WEBHOOK_OUTCOMES.labels(webhook=webhook, outcome=outcome).inc()

    def wrap(self, app: FastAPI) -> None:
        """Adds Outreach's middleware to the app, innermost first as create_app adds it."""
        app.add_middleware(SecurityHeadersMiddleware)
        app.add_middleware(WriteGuard)
        app.add_middleware(
            SessionMiddleware, secret_key=secrets.token_hex(32), session_cookie="outreach_session"
        )
        app.add_middleware(BodyLimits, settings=self.settings)
        app.add_middleware(RequestMetrics)
        app.add_middleware(add_request_id)
