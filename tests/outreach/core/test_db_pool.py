"""PostgreSQL pings a pooled connection only after it sat idle, and survives a dropped one."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, func, select, text

import outreach.core.db as db
from campaigns.registry.models import Interaction
from outreach.core.context import AppContext
from outreach.core.db import make_engine, make_session_factory, session_scope
from tests.support.app import POSTGRES_URL, signed_post
from tests.support.database import fresh_database

FLYER = "+994502000101"  # AZ-FLYER-BAKU-2027, whose keyword "iş" this texts

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="needs OUTREACH_TEST_POSTGRES_URL")


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    with fresh_database("postgres", tmp_path) as url:
        engine = make_engine(url)
        yield engine
        engine.dispose()


@pytest.fixture
def pings(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the dialect's pings of pooled connections."""
    sent: list[int] = []
    real = engine.dialect.do_ping

    def counted(dbapi_conn: Any) -> bool:
        sent.append(1)
        return real(dbapi_conn)

    monkeypatch.setattr(engine.dialect, "do_ping", counted)
    return sent


def backend_pid(engine: Engine) -> int:
    with session_scope(make_session_factory(engine)) as session:
        return int(session.execute(text("SELECT pg_backend_pid()")).scalar_one())


def terminate(pid: int) -> None:
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
    admin.dispose()
    time.sleep(0.2)  # the backend is gone before the next checkout


def test_a_connection_back_from_a_request_a_moment_ago_is_not_pinged(
    engine: Engine, pings: list[int]
) -> None:
    first = backend_pid(engine)
    assert [backend_pid(engine) for _ in range(5)] == [first] * 5
    assert pings == []


def test_an_idle_connection_the_server_dropped_is_replaced_before_use(
    engine: Engine, pings: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "PG_IDLE_PING_SECONDS", 0.05)
    first = backend_pid(engine)
    terminate(first)
    second = backend_pid(engine)  # no error: the ping found it dead, the pool reconnected
    assert second != first
    assert pings == [1]


def test_a_webhook_on_a_connection_dropped_within_the_idle_window_is_answered_once(
    client: Any, loaded: AppContext, database_url: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    terminate(backend_pid(loaded.engine))  # pooled, and not idle long enough to be pinged
    params = {"MessageSid": "SM" + "1" * 32, "From": "+994501234567", "To": FLYER, "Body": "iş"}
    response = signed_post(client, "/twilio/sms", params)
    assert response.status_code == 200
    assert "Xaricdə iş?" in response.text  # the flyer's reply, not the apology
    with loaded.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Interaction)) == 1
