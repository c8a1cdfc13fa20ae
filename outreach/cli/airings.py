"""`outreach airings import`: record radio and TV airings from a CSV file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from campaigns.airings.service import AiringError, import_csv
from outreach.cli.context import console, open_context
from outreach.core.db import session_scope

airings_app = typer.Typer(help="Radio and TV airings (for the lift report).", no_args_is_help=True)


@airings_app.command("import")
def airings_import(file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)]) -> None:
    """Import airings from a CSV file: campaign,station,aired_at,duration_seconds."""
    ctx = open_context()
    try:
        with session_scope(ctx.sessions) as session:
            added, problems = import_csv(session, text=file.read_text(encoding="utf-8-sig"))
    except AiringError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    for problem in problems:
        console.print(f"[yellow]skipped {problem}[/yellow]")
    console.print(f"imported {added} airing(s), skipped {len(problems)}")
