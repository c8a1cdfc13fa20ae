"""SQLite units of work of one process take turns on a lock of their own, bounded in time."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import TimeoutError as PoolTimeout

from outreach.core.db import (
    NOT_RUN,
    make_engine,
    make_session_factory,
    run_if_writer_free,
    session_scope,
)
from tests.support.database import another_thread_writing


def test_a_writer_without_a_turn_fails_within_the_lock_timeout(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}", lock_timeout=0.2)
    sessions = make_session_factory(engine)
    with another_thread_writing(sessions), pytest.raises(PoolTimeout), session_scope(sessions):
        pass
    with session_scope(sessions) as session:  # the turn is given back
        assert session.execute(text("SELECT 1")).scalar() == 1
    engine.dispose()


def test_twenty_writers_at_once_all_commit(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    sessions = make_session_factory(engine)
    with session_scope(sessions) as session:
        session.execute(text("CREATE TABLE n (v INTEGER)"))
        session.execute(text("INSERT INTO n VALUES (0)"))

    def bump() -> None:
        with session_scope(sessions) as session:
            value = session.execute(text("SELECT v FROM n")).scalar_one()
            session.execute(text("UPDATE n SET v = :v"), {"v": value + 1})

    with ThreadPoolExecutor(20) as pool:
        for future in [pool.submit(bump) for _ in range(20)]:
            future.result()
    with session_scope(sessions) as session:
        assert session.execute(text("SELECT v FROM n")).scalar_one() == 20
    engine.dispose()


def test_work_runs_in_this_thread_when_the_writer_turn_is_free(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    sessions = make_session_factory(engine)
    ran_in: list[int] = []

    def work() -> int:
        ran_in.append(threading.get_ident())
        # The units of work inside do not take the turn again (they would wait on themselves).
        with session_scope(sessions) as session:
            return int(session.execute(text("SELECT 41 + 1")).scalar_one())

    assert run_if_writer_free(engine, work) == 42
    assert ran_in == [threading.get_ident()]
    with session_scope(sessions):  # and the turn was given back
        pass
    engine.dispose()


def test_work_is_not_run_while_another_thread_writes(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    sessions = make_session_factory(engine)
    ran: list[bool] = []
    with another_thread_writing(sessions):
        assert run_if_writer_free(engine, lambda: ran.append(True)) is NOT_RUN
    assert ran == []
    assert run_if_writer_free(engine, lambda: "free again") == "free again"
    engine.dispose()


@pytest.mark.parametrize("url", ["sqlite://", "postgresql+psycopg://nobody@127.0.0.1:1/none"])
def test_other_engines_never_run_work_inline(url: str) -> None:
    # In-memory SQLite has one connection per thread, PostgreSQL waits belong off the loop.
    engine = make_engine(url)
    assert run_if_writer_free(engine, lambda: "ran") is NOT_RUN
    engine.dispose()
