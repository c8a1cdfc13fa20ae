"""schemathesis against /openapi.json, in process, as a manager on a loaded demo database.

Every API operation is called with generated requests (valid and invalid ones); the app must
answer no 5xx, and every answer must match what the spec declares (status, content type,
body schema). The number of examples is bounded so the run takes about a minute per database.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import create_engine, text

from campaigns.registry.service import load_file
from outreach.app import create_app
from outreach.core.context import AppContext
from outreach.core.db import make_engine, make_session_factory, upgrade_schema
from outreach.web.auth.models import Role
from tests.support.app import DEMO_FILE, POSTGRES_URL, make_settings
from tests.support.reports import make_user, seed_demo

MAX_EXAMPLES = 15
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
_BACKENDS = ["sqlite"] + (["postgres"] if POSTGRES_URL else [])


@pytest.fixture(scope="module", params=_BACKENDS)
def module_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """One database for the whole run (demo campaigns and a few seeded days in it)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('schemathesis') / 'outreach.db'}"
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in POSTGRES_URL else "?"
    yield f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(scope="module")
def demo(
    module_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Any, str]]:
    flows = Path(DEMO_FILE).parent
    ctx_settings = make_settings(module_database, flows_dir=str(flows))
    engine = make_engine(module_database)
    upgrade_schema(engine)
    ctx = AppContext(settings=ctx_settings, engine=engine, sessions=make_session_factory(engine))
    with ctx.sessions.begin() as session:
        load_file(session, DEMO_FILE)
    seed_demo(ctx, days=1)
    token = make_user(ctx, "boss", Role.MANAGER)
    yield create_app(ctx=ctx, migrate=False, start_background=False), token
    engine.dispose()


def _spec_app() -> Any:
    """An app over an unused in-memory database: enough to serve /openapi.json at collection."""
    engine = make_engine("sqlite://")
    ctx = AppContext(
        settings=make_settings("sqlite://"), engine=engine, sessions=make_session_factory(engine)
    )
    return create_app(ctx=ctx, migrate=False, start_background=False)


# Loaded at import so each operation is its own test (schemathesis' lazy fixture loader does
# not work with pytest 9); every request goes to the module's real app (`app=` below).
schema = schemathesis.openapi.from_asgi("/openapi.json", _spec_app())


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_the_api_answers_as_its_spec_says(case: Any, demo: tuple[Any, str]) -> None:
    app, token = demo
    # The Twilio webhooks answer TwiML and refuse unsigned requests; their own fuzz signs
    # requests. Here they must only never fail; the JSON API must match its spec too.
    checks = CHECKS if case.operation.path.startswith("/api/") else [not_a_server_error]
    case.call_and_validate(app=app, headers={"Authorization": f"Bearer {token}"}, checks=checks)
