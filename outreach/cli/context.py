"""What every command starts from: settings, a migrated AppContext, and campaigns loaded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

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


def load_campaigns(ctx: AppContext, path: Path) -> None:
    """Applies a campaigns file and prints what changed; exits 1 on an invalid file."""
    try:
        with session_scope(ctx.sessions) as session:
            result = load_file(session, path, default_timezone=ctx.settings.default_timezone)
    except InvalidCampaignFile as exc:
        for problem in exc.problems:
            console.print(f"[red]{problem}[/red]")
        raise typer.Exit(int(ExitCode.PROBLEMS)) from exc
    console.print(
        f"loaded {path.name}: {len(result.created)} created, {len(result.updated)} updated, "
        f"{len(result.unchanged)} unchanged"
    )
