"""`outreach airings import`: record radio and TV airings from a CSV file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from campaigns.airings.service import AiringError, import_csv
from outreach.cli.context import cli_actor, console, open_context
from outreach.cli.errors import ExitCode, fail, warn
from outreach.core.db import session_scope

airings_app = typer.Typer(help="Radio and TV airings (for the lift report).", no_args_is_help=True)


@airings_app.command("import")
def airings_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
) -> None:
    """Import airings from a CSV file: campaign,station,aired_at,duration_seconds.

    Commas or semicolons separate the columns. A time without an offset (2027-02-01 08:00) is
    in the campaign's time zone. Only radio and TV campaigns air. A row already recorded is
    skipped, so importing a file twice adds nothing. Exits 1 when any row was skipped.
    """
    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        fail(f"{file} is not UTF-8 text (save the CSV as UTF-8)")
    ctx = open_context()
    try:
        with session_scope(ctx.sessions) as session:
            added, problems = import_csv(session, text=text, actor=cli_actor())
    except AiringError as exc:
        fail(f"{file}: {exc}")
    for problem in problems:
        warn(f"skipped {problem}")
    console.print(f"imported {added} airing(s), skipped {len(problems)}")
    if problems:
        raise typer.Exit(int(ExitCode.PROBLEMS))
