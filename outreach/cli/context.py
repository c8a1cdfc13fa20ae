"""What every command starts from: settings, a migrated AppContext, and campaigns loaded."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Any

import typer

from campaigns.audit.service import Actor, Interface
from campaigns.registry.changes import FileConflicts
from campaigns.registry.service import InvalidCampaignFile, load_file
from outreach.cli.errors import ExitCode, fail
from outreach.cli.output import console, quiet_alembic
from outreach.core.context import AppContext
from outreach.core.db import SchemaError, session_scope, upgrade_schema
from outreach.core.logs import setup_logging
from outreach.core.settings import ConfigError, Settings

__all__ = ["cli_settings", "console", "load_campaigns", "open_context"]


def cli_settings(*, serving: bool = False, secrets: bool = True, **overrides: Any) -> Settings:
    """Reads settings. A client command (not `serving`) with no Twilio token in the environment
    uses the demo's secrets when they exist, so `outreach text` talks to a running demo; a
    service never does (a stale demo secrets file stops it, see Settings.ensure_secrets).

    A command that uses no secret (`secrets=False`: reports, exports, listings, the schema)
    runs without them; configuration errors exit 3 (refused to start)."""
    settings = Settings(**overrides)
    if (
        not serving
        and not settings.demo
        and not settings.twilio_auth_token
        and settings.secrets_path().exists()
    ):
        settings = settings.model_copy(update={"demo": True})
    if not secrets and not settings.demo:
        return settings
    try:
        return settings.ensure_secrets()
    except ConfigError as exc:
        fail(f"configuration error: {exc}", ExitCode.REFUSED)


def open_context(
    settings: Settings | None = None, *, logs: bool = False, serving: bool = False
) -> AppContext:
    """Builds the context of a command: settings, engine, schema at head (or exit 3)."""
    settings = settings or cli_settings(serving=serving, secrets=serving)
    if logs:
        setup_logging(settings.log_level, settings.log_format)
    quiet_alembic()
    ctx = AppContext.from_settings(settings)
    try:
        upgrade_schema(ctx.engine)
    except SchemaError as exc:
        fail(f"refusing to start: {exc}", ExitCode.REFUSED)
    return ctx


def cli_actor(detail: str = "") -> Actor:
    """Who runs a command: the system account (and the file it loads), for the audit log."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):  # no user name in a bare container
        name = "cli"
    return Actor(f"{name} ({detail})" if detail else name, Interface.CLI)


def load_campaigns(
    ctx: AppContext, path: Path, *, force: bool = False, at_start: bool = False
) -> bool:
    """Applies a campaigns file and prints what changed; exits 1 on an invalid file.

    A file that would undo changes made since its last load is refused as a whole: exit 1,
    or at a service's start (`at_start`) a warning, and the service keeps the database's
    campaigns. Returns whether the file was applied.
    """
    try:
        with session_scope(ctx.sessions) as session:
            result = load_file(
                session,
                path,
                actor=cli_actor(path.name),
                default_timezone=ctx.settings.default_timezone,
                force=force,
            )
    except InvalidCampaignFile as exc:
        for problem in exc.problems:
            console.print(f"[red]{problem}[/red]", markup=False, highlight=False)
        raise typer.Exit(int(ExitCode.PROBLEMS)) from exc
    except FileConflicts as exc:
        console.print(f"refusing to load {path.name}:", style="red", markup=False)
        for conflict in exc.conflicts:
            console.print(f"  {conflict}", markup=False, highlight=False, soft_wrap=True)
        if not at_start:
            raise typer.Exit(int(ExitCode.PROBLEMS)) from exc
        console.print("starting with the campaigns in the database; the file was not applied")
        return False
    console.print(
        f"loaded {path.name}: {len(result.created)} created, {len(result.updated)} updated, "
        f"{len(result.unchanged)} unchanged"
    )
    return True
