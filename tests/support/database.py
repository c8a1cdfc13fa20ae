"""Fresh databases for tests: a temp SQLite file, or a new PostgreSQL schema when configured."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from outreach.core.db import session_scope
from tests.support.app import POSTGRES_URL

BACKENDS = ["sqlite"] + (["postgres"] if POSTGRES_URL else [])


@contextmanager
def fresh_database(backend: str, folder: Path) -> Iterator[str]:
    """Yields the URL of an empty database (SQLite in `folder`), dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'outreach.db'}"
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def another_thread_writing(sessions: sessionmaker[Session]) -> Iterator[None]:
    """Holds a unit of work (and so the SQLite writer turn) in another thread until the end."""
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with session_scope(sessions):
            holding.set()
            release.wait(30)

    with ThreadPoolExecutor(1) as pool:
        held = pool.submit(hold)
        assert holding.wait(10), "the other writer did not start"
        try:
            yield
        finally:
            release.set()
            held.result()
