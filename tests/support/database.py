"""Fresh databases for tests: a temp SQLite file, or a new PostgreSQL schema when configured."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from sqlalchemy import (
    Column,
    Connection,
    Engine,
    MetaData,
    Table,
    create_engine,
    event,
    inspect,
    text,
)
from sqlalchemy.orm import Session, sessionmaker

from outreach.core.db import alembic_config, make_engine, session_scope
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


def insert_at_revision(conn: Connection, row: Any) -> None:
    """Writes an ORM object with Core, in the columns its table had at the old revision.

    The models are today's: a later migration's columns (and the session events of today's
    code) do not exist yet at an older revision, so the session cannot write them.
    Python-side defaults are applied as the ORM would; the new primary key is set on the
    object.
    """
    table = row.__table__
    present = {column["name"] for column in inspect(conn).get_columns(table.name)}
    mapper = inspect(row).mapper
    values: dict[str, Any] = {}
    for attr in mapper.column_attrs:
        column = attr.columns[0]
        if column.name not in present:
            continue
        value = getattr(row, attr.key)
        if value is None and column.default is not None:
            default = column.default
            value = default.arg(None) if callable(default.arg) else default.arg  # type: ignore[attr-defined]
        if value is not None:
            values[column.name] = value
    old = Table(
        table.name,
        MetaData(),
        *[
            Column(c.name, c.type, primary_key=c.primary_key)
            for c in table.columns
            if c.name in present
        ],
    )
    result = conn.execute(old.insert().values(values))
    for attr in mapper.column_attrs:
        if attr.columns[0].primary_key and getattr(row, attr.key) is None:
            setattr(row, attr.key, result.inserted_primary_key[0])  # type: ignore[index]


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """Collects the SQL an engine sends while the block runs, whitespace folded."""
    sent: list[str] = []

    def keep(*args: Any) -> None:
        sent.append(" ".join(str(args[2]).split()))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", keep)


def upgrade_to(database_url: str, revision: str) -> Engine:
    """An engine on the database, its schema migrated up to `revision` only."""
    engine = make_engine(database_url)
    cfg = alembic_config(database_url)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    return engine
