"""Readiness of the database: it answers, and its schema is at the newest migration."""

from __future__ import annotations

from functools import lru_cache

from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from outreach.core.db import alembic_config


@lru_cache(maxsize=1)
def schema_heads() -> frozenset[str]:
    """The revisions at the head of the migrations this code ships (read once)."""
    return frozenset(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


def database_problem(engine: Engine) -> str | None:
    """Says why the database is not ready (unreachable, or schema not at head); None if it is."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            try:
                found = set(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
            except DBAPIError:
                return "schema: the database has no migrations applied (run `outreach db upgrade`)"
    except SQLAlchemyError as exc:
        # The class only: a driver's message may carry the URL or host names.
        return f"database: not reachable ({type(getattr(exc, 'orig', None) or exc).__name__})"
    expected = schema_heads()
    if found != expected:
        have = ", ".join(sorted(found)) or "none"
        want = ", ".join(sorted(expected))
        return f"schema: at revision {have}, the code needs {want} (run `outreach db upgrade`)"
    return None
