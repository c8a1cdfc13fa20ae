"""Shared privacy scan: look for raw numbers and bodies in table rows, database files and logs."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from outreach.core.context import AppContext


def variants(number: str) -> list[str]:
    """The forms a leaked +994 number could take: E.164, bare digits, national, spaced."""
    digits = number.lstrip("+")
    return [number, digits, digits[3:], f"{digits[3:5]} {digits[5:8]} {digits[8:10]} {digits[10:]}"]


def database_text(ctx: AppContext) -> str:
    """All values of all tables, as text (works on SQLite and PostgreSQL alike)."""
    from outreach.models import metadata

    chunks: list[str] = []
    with ctx.engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(text(f'SELECT * FROM "{table.name}"')):
                chunks.append(" ".join(str(v) for v in row))
    return "\n".join(chunks)


def database_bytes(ctx: AppContext) -> bytes:
    """The SQLite file and its WAL/SHM files as bytes (empty for other databases)."""
    path = ctx.settings.sqlite_path()
    if path is None:
        return b""
    ctx.engine.dispose()
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


def log_text(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(r.getMessage() + " " + str(vars(r)) for r in caplog.records)


def assert_nowhere(ctx: AppContext, caplog: pytest.LogCaptureFixture, needles: list[str]) -> str:
    """Asserts no needle is in the rows, the database files or the logs; returns the row text."""
    stored, raw, logs = database_text(ctx), database_bytes(ctx), log_text(caplog)
    for needle in needles:
        assert needle not in stored, needle
        assert needle.encode() not in raw, needle
        assert needle not in logs, needle
    return stored
