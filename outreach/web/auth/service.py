"""Users, API tokens and login sessions: create, authenticate, look up, revoke."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from outreach.web.auth.models import ApiToken, LoginSession, Role, User

TOKEN_PREFIX = "otk_"  # noqa: S105 (a prefix, not a secret)
# A login lasts this long at most, however active; the cookie's max age is the same.
SESSION_LIFETIME = timedelta(hours=8)
_hasher = PasswordHasher()
# Verifying against this when the user does not exist keeps the timing the same.
# It is a constant made once with _hasher's parameters, not hashed at import: argon2id with its
# 64 MiB memory cost raised every process's peak memory by that much before it served anything.
# A test checks it still has the hasher's parameters (check_needs_rehash), so timing matches.
_DUMMY_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$Kc/XwjH6S9JilOuLBO5YMw"
    "$oHI1IsasFALn90kPF1oyjHraUVG5yZrsMIENMUoeUGg"
)


class AuthError(ValueError):
    """A user or token that cannot be created; the message says why."""


def hash_password(password: str) -> str:
    """Hashes a password with argon2id."""
    return _hasher.hash(password)


def _check_password(password: str) -> None:
    if len(password) < 8:
        raise AuthError("password must be at least 8 characters")


def create_user(session: Session, *, username: str, password: str, role: Role) -> User:
    """Adds a user, or raises AuthError."""
    username = username.strip()
    if not username or len(username) > 64:
        raise AuthError("username must be 1 to 64 characters")
    _check_password(password)
    if session.scalar(select(User).where(User.username == username)) is not None:
        raise AuthError(f"user {username!r} exists")
    user = User(username=username, password_hash=hash_password(password), role=Role(role))
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, *, username: str, password: str) -> User | None:
    """Returns the active user with this password, or None."""
    user = session.scalar(select(User).where(User.username == username.strip()))
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def find_user(session: Session, *, username: str) -> User | None:
    """Returns the user with this username, or None."""
    return session.scalar(select(User).where(User.username == username.strip()))


def set_password(session: Session, *, user: User, password: str) -> None:
    """Changes (or resets) a user's password and ends all their login sessions."""
    _check_password(password)
    user.password_hash = hash_password(password)
    end_user_sessions(session, user=user)


def set_active(session: Session, *, user: User, active: bool) -> None:
    """Enables or disables a user; disabling ends all their login sessions."""
    user.active = active
    if not active:
        end_user_sessions(session, user=user)


def _digest(token: str) -> str:
    # Tokens and session ids are 256 random bits, so a fast hash is enough (nothing to guess).
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, *, user: User, name: str) -> str:
    """Creates an API token for a user and returns it (shown once, stored only hashed)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, name=name[:100] or "token", token_hash=_digest(token)))
    session.flush()
    return token


def user_for_token(session: Session, *, token: str, now: datetime) -> User | None:
    """Returns the active user owning a token, or None."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token)))
    if row is None or not row.user.active:
        return None
    row.last_used_at = now
    return row.user


def revoke_tokens(session: Session, *, user: User, name: str | None = None) -> int:
    """Deletes a user's API tokens (only those with this name, if given); returns how many."""
    query = delete(ApiToken).where(ApiToken.user_id == user.id)
    if name is not None:
        query = query.where(ApiToken.name == name)
    return int(getattr(session.execute(query), "rowcount", 0) or 0)


def start_session(session: Session, *, user: User, now: datetime) -> str:
    """Records a new login session and returns its id for the cookie (stored only hashed)."""
    # Expired sessions are dropped here, so the table holds only live ones.
    session.execute(delete(LoginSession).where(LoginSession.expires_at <= now))
    session_id = secrets.token_urlsafe(32)
    session.add(
        LoginSession(
            user_id=user.id,
            id_hash=_digest(session_id),
            created_at=now,
            expires_at=now + SESSION_LIFETIME,
        )
    )
    session.flush()
    return session_id


def user_for_session(session: Session, *, session_id: str, now: datetime) -> User | None:
    """Returns the active user of a live login session, or None."""
    if len(session_id) > 200:
        return None
    row = session.scalar(select(LoginSession).where(LoginSession.id_hash == _digest(session_id)))
    if row is None or row.expires_at <= now or not row.user.active:
        return None
    return row.user


def end_session(session: Session, *, session_id: str) -> None:
    """Ends one login session (logout)."""
    session.execute(delete(LoginSession).where(LoginSession.id_hash == _digest(session_id)))


def end_user_sessions(session: Session, *, user: User) -> int:
    """Ends every login session of a user, in every process; returns how many there were."""
    ended = session.execute(delete(LoginSession).where(LoginSession.user_id == user.id))
    session.expire(user, ["sessions"])
    return int(getattr(ended, "rowcount", 0) or 0)
