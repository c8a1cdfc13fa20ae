"""Managing users, audited: create, disable/enable, reset a password, choose a language, tokens.

The browser and the CLI both call these, so every change lands in the audit log with who made
it and where. The log holds a user's public fields only: never a password or a token.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.audit.service import Actor, TargetKind, record
from outreach.web.auth import service as auth
from outreach.web.auth.models import ApiToken, Role, User
from outreach.web.i18n import LANGUAGES


def _public(user: User) -> dict[str, object]:
    return {"role": str(user.role), "active": user.active, "language": user.language}


def create(
    session: Session,
    *,
    actor: Actor,
    username: str,
    password: str,
    role: Role,
    language: str | None = None,
) -> User:
    """Adds a user (raises auth.AuthError)."""
    user = auth.create_user(session, username=username, password=password, role=role)
    user.language = language if language in LANGUAGES else None
    session.flush()
    record(
        session, actor=actor, action="create", kind=TargetKind.USER, target=user.username,
        before=None, after=_public(user),
    )  # fmt: skip
    return user


def set_active(session: Session, *, actor: Actor, user: User, active: bool) -> None:
    """Enables or disables a user; disabling ends every session of theirs."""
    if user.active == active:
        return
    before = _public(user)
    auth.set_active(session, user=user, active=active)
    record(
        session, actor=actor, action="enable" if active else "disable", kind=TargetKind.USER,
        target=user.username, before=before, after=_public(user),
    )  # fmt: skip


def reset_password(session: Session, *, actor: Actor, user: User, password: str) -> None:
    """Sets a new password and ends every session of the user (raises auth.AuthError)."""
    auth.set_password(session, user=user, password=password)
    record(
        session, actor=actor, action="reset password", kind=TargetKind.USER,
        target=user.username, before={"password": "old"}, after={"password": "new"},
    )  # fmt: skip


def end_sessions(session: Session, *, actor: Actor, user: User) -> int:
    """Ends every dashboard session of a user (API tokens stay); returns how many ended."""
    ended = auth.end_user_sessions(session, user=user)
    record(
        session, actor=actor, action="logout", kind=TargetKind.USER, target=user.username,
        before={"sessions": ended}, after={"sessions": 0},
    )  # fmt: skip
    return ended


def set_language(session: Session, *, actor: Actor, user: User, language: str | None) -> None:
    """Chooses the user's interface language (None: the browser's)."""
    chosen = language if language in LANGUAGES else None
    if user.language == chosen:
        return
    before = _public(user)
    user.language = chosen
    record(
        session, actor=actor, action="language", kind=TargetKind.USER, target=user.username,
        before=before, after=_public(user),
    )  # fmt: skip


def issue_token(session: Session, *, actor: Actor, user: User, name: str) -> str:
    """Creates an API token and returns it (shown once; the log keeps only its name)."""
    token = auth.create_token(session, user=user, name=name)
    record(
        session, actor=actor, action="issue", kind=TargetKind.TOKEN, target=user.username,
        before=None, after={"name": name[:100] or "token"},
    )  # fmt: skip
    return token


def revoke_token(session: Session, *, actor: Actor, user: User, token_id: int) -> bool:
    """Revokes one API token of a user; returns whether it existed."""
    row = session.scalar(
        select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id)
    )
    if row is None:
        return False
    record(
        session, actor=actor, action="revoke", kind=TargetKind.TOKEN, target=user.username,
        before={"name": row.name}, after=None,
    )  # fmt: skip
    session.delete(row)
    session.flush()
    return True


def revoke_named(session: Session, *, actor: Actor, user: User, name: str | None) -> int:
    """Revokes a user's tokens (all, or those with one name); returns how many."""
    count = auth.revoke_tokens(session, user=user, name=name)
    if count:
        record(
            session, actor=actor, action="revoke", kind=TargetKind.TOKEN, target=user.username,
            before={"name": name or "all", "count": count}, after=None,
        )  # fmt: skip
    return count
