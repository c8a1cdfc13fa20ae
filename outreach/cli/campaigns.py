"""`outreach campaigns validate|load|export|list`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import select

from campaigns.registry.export import ExportError, collect, write
from campaigns.registry.models import Campaign
from campaigns.registry.validation import validate_file
from outreach.cli.context import load_campaigns, open_context
from outreach.cli.errors import ExitCode, fail
from outreach.cli.output import console, progress, show_table

campaigns_app = typer.Typer(help="The campaign registry (YAML files).", no_args_is_help=True)
FileArg = Annotated[Path, typer.Argument(help="A campaigns YAML file.")]


@campaigns_app.command("validate")
def validate(path: FileArg) -> None:
    """Check a campaigns file; print every error with its location and reply segment counts."""
    report = validate_file(path)
    for note in report.notes:
        console.print(f"  {note}", markup=False, highlight=False, soft_wrap=True)
    if report.ok:
        count = len(report.parsed.campaigns) if report.parsed else 0
        console.print(f"{path}: OK ({count} campaigns)", style="green", markup=False)
        return
    for problem in report.problems:
        console.print(
            f"{path}:{problem}", style="red", markup=False, highlight=False, soft_wrap=True
        )
    console.print(f"{len(report.problems)} error(s)")
    raise typer.Exit(int(ExitCode.PROBLEMS))


@campaigns_app.command("load")
def load(
    path: FileArg,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite campaigns changed since the last load.")
    ] = False,
    keep_edits: Annotated[
        bool,
        typer.Option(
            "--keep-edits",
            help="On such a conflict, warn and keep the database's campaigns (exit 0).",
        ),
    ] = False,
) -> None:
    """Apply a campaigns file to the database (idempotent: loading twice creates nothing).

    Refuses, changing nothing, when the file would change a campaign edited in the browser or
    the API since the file was last loaded; --force overwrites those edits, --keep-edits warns
    and keeps them (what a deployment's start-up step wants).
    """
    if force and keep_edits:
        fail("--force and --keep-edits exclude each other")
    ctx = open_context()
    with progress(f"loading {path.name}"):
        load_campaigns(ctx, path, force=force, at_start=keep_edits)


@campaigns_app.command("export")
def export(
    path: Annotated[Path, typer.Argument(help="The campaigns YAML file to write.")],
) -> None:
    """Write the database's campaigns, hotlines and series as a file (flows copied beside it).

    Loading the file back changes nothing.
    """
    ctx = open_context()
    try:
        with ctx.sessions() as session:
            copied = write(collect(session, ctx.settings), path)
    except ExportError as exc:
        fail(f"cannot export: {exc}")
    console.print(f"wrote {path} and {len(copied)} flow file(s)", markup=False)


@campaigns_app.command("list")
def list_campaigns() -> None:
    """List the campaigns in the database with their numbers and keywords."""
    ctx = open_context()
    with ctx.sessions() as session:
        rows = [
            [
                c.code,
                str(c.medium),
                c.region or "",
                f"{c.start_date}..{c.end_date}",
                " ".join(n.number for n in c.numbers),
                " ".join(k.keyword for k in c.keywords),
            ]
            for c in session.scalars(select(Campaign).order_by(Campaign.code))
        ]
    show_table("Campaigns", ("code", "medium", "region", "dates", "numbers", "keywords"), rows)
