"""Shared fixtures: a clean database per test (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from outreach.app import create_app
from outreach.core.context import AppContext
from outreach.core.db import make_engine, make_session_factory, upgrade_schema
from outreach.core.settings import Settings
from tests.support.app import DEMO_FILE, make_settings
from tests.support.database import BACKENDS, fresh_database


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database URL with an empty schema: a temp SQLite file, or a fresh PostgreSQL schema."""
    with fresh_database(request.param, tmp_path) as url:
        yield url


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
