"""Database engine, sessions, the declarative base and schema upgrades."""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar
from weakref import WeakKeyDictionary

from alembic import command
from alembic.config import Config
from sqlalchemy import DateTime, MetaData, String, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.sql.dml import ReturningInsert
from sqlalchemy.sql.schema import Table
from sqlalchemy.types import TypeDecorator

log = logging.getLogger(__name__)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"

# Twilio gives up on a webhook after 15 s. A statement waits at most LOCK_TIMEOUT_SECONDS for
# a lock (SQLite's busy timeout, PostgreSQL's lock_timeout, a free pooled connection) and runs
# at most STATEMENT_TIMEOUT_SECONDS (PostgreSQL), so a request that cannot be served in time
# fails fast and the caller gets the apology instead of silence. Settings override both.
LOCK_TIMEOUT_SECONDS = 4.0
STATEMENT_TIMEOUT_SECONDS = 8.0
# The execution option that makes a SQLite transaction begin IMMEDIATE (see session_scope).
SQLITE_IMMEDIATE = "outreach_sqlite_immediate"
# Provider ids (MessageSid, CallSid) are stored whole up to this length, hashed beyond it.
SID_LENGTH = 255
# Connections a SQLite file engine keeps open: enough for the one writer plus the readers of a
# busy process, so no request opens (and re-PRAGMAs) an overflow connection of its own.
SQLITE_POOL_SIZE = 12
PG_POOL_SIZE = 20
# A pooled PostgreSQL connection idle this long is pinged before it is used (see _ping_if_idle).
PG_IDLE_PING_SECONDS = 1.0
_IDLE_SINCE = "outreach_idle_since"
# One writer per process and SQLite file, as a bounded wait on a lock (see session_scope).
_SQLITE_WRITERS: WeakKeyDictionary[Engine, tuple[threading.Lock, float]] = WeakKeyDictionary()
# The execution option of a SQLite BEGIN IMMEDIATE that must not wait (see `run_if_writer_free`).
SQLITE_NO_WAIT = "outreach_sqlite_no_wait"


@dataclass
class _Inline:
    """The inline run (`run_if_writer_free`) the running code is part of."""

    engine: Engine
    committed: bool = False


_INLINE: ContextVar[_Inline | None] = ContextVar("outreach_sqlite_inline", default=None)


class WriterBusy(Exception):
    """Another process holds the SQLite write lock: an inline unit of work gives way."""


# What `run_if_writer_free` returns when it did not run the work.
NOT_RUN = object()


class SchemaError(RuntimeError):
    """Raised when the database schema cannot be brought up to date."""


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and always returns them aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def sid_key(sid: str) -> str:
    """Returns how a provider id is stored: itself up to SID_LENGTH characters, else a hash."""
    if len(sid) <= SID_LENGTH:
        return sid
    return "sha256:" + hashlib.sha256(sid.encode()).hexdigest()


class ProviderSid(TypeDecorator[str]):
    """A gateway's message or call id. Twilio's have 34 characters, other gateways' more.

    Every value written or compared goes through `sid_key`, so a long id is never cut (two
    ids sharing a prefix stay two) and a retried one finds its first record.
    """

    impl = String(SID_LENGTH)
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else sid_key(value)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


def utcnow() -> datetime:
    return datetime.now(UTC)


def make_engine(
    url: str,
    *,
    lock_timeout: float = LOCK_TIMEOUT_SECONDS,
    statement_timeout: float = STATEMENT_TIMEOUT_SECONDS,
) -> Engine:
    """Creates an engine whose waits are bounded (a statement_timeout of 0 turns it off).

    SQLite gets WAL, foreign keys, a busy timeout of `lock_timeout` and real transactions
    (see `_sqlite_transactions`). PostgreSQL gets lock_timeout and statement_timeout on each
    connection.
    """
    if url.startswith("sqlite"):
        in_memory = make_url(url).database in (None, "", ":memory:")
        # An in-memory database lives in one connection per thread: there is no pool to wait on.
        pooling: dict[str, Any] = {}
        if not in_memory:
            pooling = {"pool_timeout": lock_timeout, "pool_size": SQLITE_POOL_SIZE}
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": lock_timeout}, **pooling
        )
        _sqlite_transactions(engine, in_memory=in_memory, lock_timeout=lock_timeout)
        if not in_memory:
            _SQLITE_WRITERS[engine] = (threading.Lock(), lock_timeout)
        return engine
    try:
        return _pg_engine(url, lock_timeout, statement_timeout)
    except ModuleNotFoundError as exc:  # psycopg is the `postgres` extra
        raise SchemaError(
            f"{url.split(':', 1)[0]} needs the PostgreSQL driver, which is not installed: "
            "pip install 'outreach[postgres]'"
        ) from exc


def _pg_engine(url: str, lock_timeout: float, statement_timeout: float) -> Engine:
    engine = create_engine(
        url,
        # As many as before (10 + 10 overflow), all kept: an overflow connection was opened
        # and closed per request under load, each a new PostgreSQL backend.
        pool_size=PG_POOL_SIZE,
        max_overflow=0,
        pool_timeout=lock_timeout,
        # The connection checked in last is handed out first: under load a few stay busy and
        # are never pinged (see _ping_if_idle); the rest sit idle.
        pool_use_lifo=True,
        connect_args={
            "options": _pg_options(url, lock_timeout, statement_timeout),
            # An unreachable server fails a connect as fast as a held lock (not TCP's minutes).
            "connect_timeout": max(1, round(lock_timeout)),
        },
    )
    _ping_if_idle(engine)
    return engine


def _ping_if_idle(engine: Engine) -> None:
    """Pings a pooled connection at checkout only if it sat idle for PG_IDLE_PING_SECONDS.

    `pool_pre_ping` pinged at every checkout: one more round trip per request and job, a
    sixth of a voice step's. A connection back from a request a moment ago is alive; one that
    waited in the pool (a quiet hour, a server restart meanwhile) is pinged first, and if the
    server has dropped it, the pool opens a new one (SQLAlchemy's DisconnectionError). A
    connection that dies within the idle window fails its statement instead; the pool is
    invalidated then, and a webhook's one retry (`in_transaction`) runs on a new connection.
    """

    @event.listens_for(engine, "checkin")
    def _idle_since(_dbapi_conn: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.pop(_IDLE_SINCE, None)
        if since is None or time.monotonic() - since < PG_IDLE_PING_SECONDS:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as exc:
            if not engine.dialect.is_disconnect(exc, dbapi_conn, None):
                raise
            alive = False
        if not alive:
            raise DisconnectionError("the pooled connection was closed by the server")


def _sqlite_transactions(engine: Engine, *, in_memory: bool, lock_timeout: float) -> None:
    """Gives SQLite real transactions: BEGIN before the first statement, IMMEDIATE for writers.

    pysqlite on its own sends no BEGIN before a SELECT, so a read-then-write ran its reads
    outside any transaction: two copies of one webhook both read "not done yet" and both
    applied it (SELECT ... FOR UPDATE does nothing on SQLite). SQLAlchemy's documented recipe
    turns pysqlite's own transaction handling off and emits BEGIN itself. A unit of work
    (`session_scope`: requests, webhooks, jobs) begins IMMEDIATE, taking the write lock first,
    so a second writer waits (up to the busy timeout) for the first to commit and then reads
    what it wrote. Other sessions (reads, tests) begin DEFERRED and read a consistent snapshot
    without waiting, since readers of a WAL database never wait for the writer.
    """

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # the "begin" listener below starts transactions
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        if not in_memory:
            cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        options = conn.get_execution_options()
        statement = "BEGIN IMMEDIATE" if options.get(SQLITE_IMMEDIATE) else "BEGIN"
        # Sent on the driver's connection: through SQLAlchemy's execution (events, a cursor
        # and a result for a statement that returns nothing) it cost a sixth of a unit of work.
        driver = conn.connection.dbapi_connection
        assert driver is not None
        if not options.get(SQLITE_NO_WAIT, False):
            _driver_begin(driver, statement)
            return
        # An inline unit of work (run_if_writer_free) must not wait for another process's
        # write lock on the event loop: it gives way to the thread pool instead.
        driver.execute("PRAGMA busy_timeout=0")
        try:
            _driver_begin(driver, "BEGIN IMMEDIATE")
        except OperationalError as exc:
            if "locked" not in str(exc.orig) and "busy" not in str(exc.orig):
                raise
            raise WriterBusy("another process is writing to the SQLite file") from exc
        finally:
            driver.execute(f"PRAGMA busy_timeout={int(lock_timeout * 1000)}")


def _driver_begin(driver: Any, statement: str) -> None:
    """Begins a SQLite transaction on the driver; its error raised as SQLAlchemy raises it."""
    try:
        driver.execute(statement)
    except sqlite3.Error as exc:
        raise DBAPIError.instance(statement, None, exc, sqlite3.Error) from exc


def _pg_options(url: str, lock_timeout: float, statement_timeout: float) -> str:
    """Returns libpq `options` with the timeouts added to any the URL already sets."""
    given = make_url(url).query.get("options", "")
    options = " ".join(given) if isinstance(given, tuple) else given
    bounds = f"-c lock_timeout={int(lock_timeout * 1000)}"
    bounds += f" -c statement_timeout={int(statement_timeout * 1000)}"
    return f"{options} {bounds}".strip()


def insert_for(session: Session, table: type[Base] | Table) -> postgresql.Insert | sqlite.Insert:
    """Returns an INSERT of the session's dialect, for `.on_conflict_do_nothing()` upserts."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def insert_ignoring(
    table: Table, *returning: Any, index_elements: Sequence[str] | None = None
) -> dict[str, ReturningInsert[Any]]:
    """`INSERT … ON CONFLICT DO NOTHING RETURNING …` per dialect name, built once.

    Run `statements[connection.dialect.name]` with the row's values as parameters: built and
    cache-keyed per request, a statement cost more than running it. No row back: a conflict.
    """
    return {
        name: insert(table)
        .on_conflict_do_nothing(index_elements=index_elements)
        .returning(*returning)
        for name, insert in (("sqlite", sqlite.insert), ("postgresql", postgresql.insert))
    }


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """Opens the unit of work of a request or a job: commits on success, rolls back on error.

    The request or job that opens it owns the transaction. Domain code inside only flushes
    and uses savepoints (`session.begin_nested()`); it never commits or rolls back. On
    SQLite the transaction takes the write lock when it begins (see `_sqlite_transactions`).

    On a SQLite file, the threads of one process first queue on a lock of their own (bounded
    by the lock timeout, then sqlalchemy's TimeoutError): SQLite's busy handler polls with
    sleeps of up to 100 ms, so forty request threads polling for its write lock spent most of
    their time asleep while the lock was free. Other processes still wait on SQLite's lock.
    The lock is a plain Lock, not an RLock: FastAPI may end a dependency's scope in another
    thread than the one that began it. A unit of work nested in another on one SQLite file
    waited out the busy timeout before this lock too, and fails the same way.
    """
    bind = factory.kw.get("bind")
    inline = _INLINE.get()
    inline = inline if inline is not None and inline.engine is bind else None
    writer = None if inline is not None else _SQLITE_WRITERS.get(bind)  # type: ignore[arg-type]
    if writer is not None and not writer[0].acquire(timeout=writer[1]):
        raise PoolTimeout(f"no turn to write to the database within {writer[1]} s")
    # Inline, nothing may wait for another process's lock until something has committed
    # (after that, running the work again in the thread pool would do it twice).
    options = {SQLITE_IMMEDIATE: True, SQLITE_NO_WAIT: inline is not None and not inline.committed}
    try:
        session = factory()
        try:
            session.connection(execution_options=options)
            yield session
            session.commit()
            if inline is not None:
                inline.committed = True
        except Exception:
            session.rollback()
            raise
        finally:
            session.close()
    finally:
        if writer is not None:
            writer[0].release()


def run_if_writer_free(engine: Engine, work: Callable[[], Any]) -> Any:
    """Runs `work` at once in this thread if it can have the SQLite writer turn without waiting.

    Returns NOT_RUN (and runs nothing) when the engine is not a SQLite file or another
    thread of this process is writing. An async webhook calls this on the event loop: its
    units of work then run inline, one after the other, as the floor's single statement does,
    instead of forty thread-pool threads queueing on the lock; only when a job or a page is
    writing does the webhook wait in the thread pool. The units of work inside `work`
    (`session_scope`) do not take the turn again. Nor do they wait for another process
    (`outreach worker`, a CLI command) holding SQLite's own write lock: the first one fails at
    once with WriterBusy, and the work is handed back (NOT_RUN) to run in the thread pool.
    """
    current = _INLINE.get()
    if current is not None and current.engine is engine:
        return work()
    writer = _SQLITE_WRITERS.get(engine)
    if writer is None or not writer[0].acquire(blocking=False):
        return NOT_RUN
    held = _INLINE.set(_Inline(engine))
    try:
        return work()
    except WriterBusy:
        return NOT_RUN  # nothing was committed: the thread pool runs the work from the start
    finally:
        _INLINE.reset(held)
        writer[0].release()


def alembic_config(url: str) -> Any:

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["configure_logger"] = False
    return cfg


def upgrade_schema(engine: Engine) -> None:
    """Brings the schema to the newest migration, or raises SchemaError with the reason."""

    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    try:
        with engine.connect() as conn, _foreign_keys_off(conn):
            conn.execution_options(**{SQLITE_IMMEDIATE: True})
            with conn.begin():
                if conn.dialect.name == "postgresql":
                    # A migration may rewrite a big table: it is not a request to bound.
                    conn.execute(text("SET LOCAL statement_timeout = 0"))
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "heads")
                if conn.dialect.name == "sqlite":
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise SchemaError(f"the migrations break {len(broken)} foreign key(s)")
    except Exception as exc:
        raise SchemaError(
            f"could not upgrade the database schema at {engine.url!r}: {exc}. "
            "Check OUTREACH_DATABASE_URL and that the database is reachable and writable."
        ) from exc


@contextmanager
def _foreign_keys_off(conn: Connection) -> Iterator[None]:
    """Turns SQLite's foreign keys off while migrations run (checked before they commit).

    A batch migration rebuilds a table by copying it and dropping the original; with foreign
    keys on, that DROP would cascade to the rows referencing it (calls -> call_events). The
    pragma only takes effect outside a transaction, hence on the connection before BEGIN.
    """
    if conn.dialect.name != "sqlite":
        yield
        return
    raw = conn.connection.driver_connection
    assert raw is not None
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
    finally:
        raw.execute("PRAGMA foreign_keys=ON")
