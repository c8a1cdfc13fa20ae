"""`outreach users …`: create users, API tokens, passwords, disable/enable, end sessions."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from sqlalchemy import select

from outreach.cli.context import cli_actor, console, open_context
from outreach.cli.errors import fail
from outreach.core.db import session_scope
from outreach.web.auth import admin
from outreach.web.auth import service as auth
from outreach.web.auth.models import Role, User
from outreach.web.auth.service import AuthError

PASSWORD_ENV = "OUTREACH_NEW_USER_PASSWORD"  # noqa: S105 (a variable name)
users_app = typer.Typer(help="Dashboard and API users.", no_args_is_help=True)


PasswordOpt = Annotated[
    str,
    typer.Option(
        envvar=PASSWORD_ENV,
        show_envvar=True,
        help="The password (better: from the environment, or asked for on a terminal).",
    ),
]


def _password(given: str, prompt: str) -> str:
    """The password given (or from the environment), else asked twice on a terminal."""
    if given:
        return given
    if not sys.stdin.isatty():
        fail(f"no terminal to ask for the password: set {PASSWORD_ENV}")
    return str(typer.prompt(prompt, hide_input=True, confirmation_prompt=True))


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Argument()],
    role: Annotated[Role, typer.Option(case_sensitive=False)] = Role.VIEWER,
    password: PasswordOpt = "",
    token: Annotated[
        str | None, typer.Option(help="Also create an API token with this name.")
    ] = None,
) -> None:
    """Add a user (password hashed with argon2id); optionally print a new API token."""
    password = _password(password, "Password")
    ctx = open_context()
    try:
        with session_scope(ctx.sessions) as session:
            user = admin.create(
                session, actor=cli_actor(), username=username, password=password, role=Role(role)
            )
            secret = (
                admin.issue_token(session, actor=cli_actor(), user=user, name=token)
                if token
                else None
            )
    except AuthError as exc:
        fail(str(exc))
    console.print(f"created {role.value} {username!r}")
    if secret:
        console.print("API token (shown once; send it as 'Authorization: Bearer …'):")
        typer.echo(secret)


@users_app.command("token")
def users_token(username: str, name: Annotated[str, typer.Option()] = "script") -> None:
    """Create an API token for an existing user and print it once."""

    ctx = open_context()
    with session_scope(ctx.sessions) as session:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            fail(f"no user {username!r}")
        typer.echo(admin.issue_token(session, actor=cli_actor(), user=user, name=name))


def _user_or_exit(session: Any, username: str) -> User:
    user = auth.find_user(session, username=username)
    if user is None:
        fail(f"no user {username!r}")
    return user


@users_app.command("password")
def users_password(username: str, password: PasswordOpt = "") -> None:
    """Set a new password for a user (a reset); ends all of their dashboard sessions."""
    password = _password(password, "New password")
    ctx = open_context()
    try:
        with session_scope(ctx.sessions) as session:
            user = _user_or_exit(session, username)
            admin.reset_password(session, actor=cli_actor(), user=user, password=password)
    except auth.AuthError as exc:
        fail(str(exc))
    console.print(f"password of {username!r} changed; their sessions are ended")


@users_app.command("disable")
def users_disable(username: str) -> None:
    """Disable a user: no login, no API token works, every dashboard session ends."""
    ctx = open_context()
    with session_scope(ctx.sessions) as session:
        user = _user_or_exit(session, username)
        admin.set_active(session, actor=cli_actor(), user=user, active=False)
    console.print(f"disabled {username!r}")


@users_app.command("enable")
def users_enable(username: str) -> None:
    """Enable a disabled user again (they log in anew)."""
    ctx = open_context()
    with session_scope(ctx.sessions) as session:
        user = _user_or_exit(session, username)
        admin.set_active(session, actor=cli_actor(), user=user, active=True)
    console.print(f"enabled {username!r}")


@users_app.command("logout")
def users_logout(username: str) -> None:
    """End every dashboard session of a user, in every process (API tokens stay)."""
    ctx = open_context()
    with session_scope(ctx.sessions) as session:
        user = _user_or_exit(session, username)
        ended = admin.end_sessions(session, actor=cli_actor(), user=user)
    console.print(f"ended {ended} session(s) of {username!r}")


@users_app.command("revoke-tokens")
def users_revoke_tokens(
    username: str,
    name: Annotated[str | None, typer.Option(help="Only the tokens with this name.")] = None,
) -> None:
    """Revoke a user's API tokens (all of them, or those with one name)."""
    ctx = open_context()
    with session_scope(ctx.sessions) as session:
        user = _user_or_exit(session, username)
        revoked = admin.revoke_named(session, actor=cli_actor(), user=user, name=name)
    console.print(f"revoked {revoked} token(s) of {username!r}")
