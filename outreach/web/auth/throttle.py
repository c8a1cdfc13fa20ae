"""Login throttling, shared by every process through the database.

Two limits apply in a fixed window (`login_window_seconds`, starting at a key's first attempt):
`login_max_failures` per (client address, username) and `login_user_max_failures` per username
across all addresses (so rotating addresses does not buy more guesses). Each attempt is counted
in its own short transaction before the password is checked, so parallel guesses in several
processes cannot all slip under a limit; a successful login takes its attempt back (and clears
its address's count). A blocked key is refused before the password is checked until its window
passes. Rows whose window has passed are deleted as attempts arrive, so the table stays small.

The client address is the TCP peer, unless the peer is one of `trusted_proxies`: then it is the
nearest address in X-Forwarded-For that is not a trusted proxy.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from starlette.requests import Request

from outreach.core.context import AppContext
from outreach.core.settings import ProxyNetwork, Settings
from outreach.web.auth.models import LoginThrottleEntry

Entry = LoginThrottleEntry


@dataclass(frozen=True)
class _Key:
    digest: str
    limit: int


class LoginThrottle:
    """The login limits of one service, on its database."""

    def __init__(self, ctx: AppContext) -> None:
        self._ctx = ctx
        self._settings = ctx.settings
        self.window = timedelta(seconds=max(1, ctx.settings.login_window_seconds))

    def _unit(self, session: Session | None) -> AbstractContextManager[Session]:
        """A savepoint of the request's unit of work, or a transaction of its own.

        Inside a request the counts go in the request's own transaction: on SQLite it already
        holds the write lock (a second connection would wait for it), and on PostgreSQL the
        counted row stays locked until the request commits, so parallel guesses are checked one
        after another and never more than the limit allows.
        """
        if session is None:
            return self._ctx.sessions.begin()
        return _nested(session)

    def attempt(
        self, *, client: str, username: str, now: datetime, session: Session | None = None
    ) -> int | None:
        """Counts a login attempt; returns the seconds to wait when it is refused, else None."""
        keys = self._keys(client, username)
        with self._unit(session) as session:
            session.execute(delete(Entry).where(Entry.window_start <= now - self.window))
            wait = self._blocked(session, keys, now)
            if wait is not None:
                return wait  # refused attempts are not counted against the other key
            cutoff = now - self.window
            counted = [_count(session, key.digest, now=now, cutoff=cutoff) for key in keys]
        # Parallel attempts may have passed the check together: the counts decide.
        over = [start for key, (n, start) in zip(keys, counted, strict=True) if n > key.limit]
        return self._wait(over, now) if over else None

    def succeeded(self, *, client: str, username: str, session: Session | None = None) -> None:
        """Clears the address's count and takes this attempt back from the username's."""
        pair, user = self._keys(client, username)
        with self._unit(session) as session:
            session.execute(delete(Entry).where(Entry.key == pair.digest))
            session.execute(
                update(Entry)
                .where(Entry.key == user.digest, Entry.attempts > 0)
                .values(attempts=Entry.attempts - 1)
            )

    def _keys(self, client: str, username: str) -> tuple[_Key, _Key]:
        name = normalise_username(username)
        return (
            _Key(self._digest("pair", client, name), max(1, self._settings.login_max_failures)),
            _Key(self._digest("user", name), max(1, self._settings.login_user_max_failures)),
        )

    def _digest(self, *parts: str) -> str:
        # Keyed, so the table holds neither addresses nor usernames in a guessable form.
        message = "\0".join(parts).encode()
        return hmac.new(self._settings.hash_key.encode(), message, hashlib.sha256).hexdigest()

    def _blocked(self, session: Session, keys: Sequence[_Key], now: datetime) -> int | None:
        limits = {key.digest: key.limit for key in keys}
        rows = session.execute(
            select(Entry.key, Entry.attempts, Entry.window_start).where(Entry.key.in_(list(limits)))
        )
        over = [start for key, n, start in rows if n >= limits[key]]
        return self._wait(over, now) if over else None

    def _wait(self, window_starts: Sequence[datetime], now: datetime) -> int:
        left = (max(window_starts) + self.window - now).total_seconds()
        return max(1, math.ceil(left))


@contextmanager
def _nested(session: Session) -> Iterator[Session]:
    with session.begin_nested():
        yield session


def _count(session: Session, key: str, *, now: datetime, cutoff: datetime) -> tuple[int, datetime]:
    """Adds one attempt to a key atomically (a new window if its last one passed)."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    expired = Entry.window_start <= cutoff
    at = literal(now, Entry.window_start.type)
    statement = dialect.insert(Entry).values(key=key, attempts=1, window_start=now)
    statement = statement.on_conflict_do_update(
        index_elements=[Entry.key],
        set_={
            "attempts": case((expired, 1), else_=Entry.attempts + 1),
            "window_start": case((expired, at), else_=Entry.window_start),
        },
    ).returning(Entry.attempts, Entry.window_start)
    attempts, window_start = session.execute(statement).one()
    return int(attempts), window_start


def throttle_for(ctx: AppContext) -> LoginThrottle:
    """Returns the service's login throttle (its state lives in the database)."""
    return LoginThrottle(ctx)


def client_address(request: Request, settings: Settings) -> str:
    """The client's address: the TCP peer, or what trusted proxies say it forwarded for."""
    peer = request.client.host if request.client else "unknown"
    trusted = settings.trusted_proxy_networks()
    if not trusted or not _is_trusted(peer, trusted):
        return peer
    forwarded = ",".join(request.headers.getlist("x-forwarded-for"))
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    # Each proxy appends the address it saw: the nearest untrusted one is the client.
    for hop in reversed(hops):
        if not _is_trusted(hop, trusted):
            return hop[:64]
    return hops[0][:64] if hops else peer


def _is_trusted(address: str, trusted: Sequence[ProxyNetwork]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)


def normalise_username(username: str) -> str:
    """Usernames are throttled as authenticate() matches them, ignoring case."""
    return username.strip().casefold()


def username_ref(username: str) -> str:
    """A short hash of a username for logs."""
    return hashlib.sha256(normalise_username(username).encode()).hexdigest()[:12]
