"""Shared fixtures: a clean database per test (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from outreach.app import create_app
from outreach.core.context import AppContext
from outreach.core.db import make_engine, make_session_factory, upgrade_schema
from outreach.core.settings import Settings
from tests.support.app import DEMO_FILE, POSTGRES_URL, make_settings

_BACKENDS = ["sqlite"] + (["postgres"] if POSTGRES_URL else [])


@pytest.fixture(params=_BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database URL with an empty schema: a temp SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'outreach.db'}"
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


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@pytest.fixture
def ctx(settings: Settings) -> Iterator[AppContext]:
    engine = make_engine(settings.database_url)
    upgrade_schema(engine)
    context = AppContext(settings=settings, engine=engine, sessions=make_session_factory(engine))
    yield context
    engine.dispose()


@pytest.fixture
def app(ctx: AppContext) -> Any:
    return create_app(ctx=ctx, migrate=False, start_background=False)


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def loaded(ctx: AppContext) -> AppContext:
    """The context with the demo campaigns loaded."""
    from campaigns.registry.service import load_file

    with ctx.sessions.begin() as session:
        load_file(session, DEMO_FILE)
    return ctx


@pytest.fixture
def captured_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog
