"""`outreach users create|token`: dashboard and API users."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy import select

from outreach.cli.context import console, open_context
from outreach.core.db import session_scope
from outreach.web.auth.models import Role, User
from outreach.web.auth.service import AuthError, create_token, create_user

users_app = typer.Typer(help="Dashboard and API users.", no_args_is_help=True)


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Argument()],
    role: Annotated[str, typer.Option(help="viewer or manager")] = "viewer",
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            envvar="OUTREACH_NEW_USER_PASSWORD",
        ),
    ] = "",
    token: Annotated[
        str | None, typer.Option(help="Also create an API token with this name.")
    ] = None,
) -> None:
    """Add a user (password hashed with argon2id); optionally print a new API token."""
    if role not in {r.value for r in Role}:
        console.print("[red]role must be viewer or manager[/red]")
        raise typer.Exit(2)
    ctx = open_context()
    try:
        with session_scope(ctx.sessions) as session:
            user = create_user(session, username=username, password=password, role=Role(role))
            secret = create_token(session, user=user, name=token) if token else None
    except AuthError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    console.print(f"created {role} {username!r}")
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
            console.print(f"[red]no user {username!r}[/red]")
            raise typer.Exit(1)
        typer.echo(create_token(session, user=user, name=name))
