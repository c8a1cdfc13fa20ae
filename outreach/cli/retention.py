"""`outreach retention purge`: delete raw rows older than the retention period."""

from __future__ import annotations

from typing import Annotated

import typer

from campaigns.retention.tasks import purge_once
from outreach.cli.context import open_context

retention_app = typer.Typer(help="Retention of raw interaction rows.", no_args_is_help=True)


@retention_app.command("purge")
def purge_command(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only count what would be deleted.")
    ] = False,
) -> None:
    """Delete raw rows older than OUTREACH_RETENTION_DAYS (reports keep their numbers)."""
    ctx = open_context()
    days = ctx.settings.retention_days
    if days <= 0:
        typer.echo("OUTREACH_RETENTION_DAYS is 0: raw rows are kept forever, nothing to purge.")
        return
    result = purge_once(ctx, dry_run=dry_run)
    assert result.cutoff is not None
    verb = "would delete" if dry_run else "deleted"
    typer.echo(f"retention {days} days: raw rows before {result.cutoff:%Y-%m-%d %H:%M %Z}")
    for table, n in result.deleted.items():
        typer.echo(f"  {table:<22} {verb} {n}")
    typer.echo(f"  {'total':<22} {verb} {result.total}")
    if dry_run:
        typer.echo("dry run: nothing was deleted")
