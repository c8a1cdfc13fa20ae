"""`outreach campaigns validate|load|list`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import select

from campaigns.registry.models import Campaign
from campaigns.registry.validation import validate_file
from outreach.cli.context import load_campaigns, open_context
from outreach.cli.errors import ExitCode
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
def load(path: FileArg) -> None:
    """Apply a campaigns file to the database (idempotent: loading twice creates nothing)."""
    ctx = open_context()
    with progress(f"loading {path.name}"):
        load_campaigns(ctx, path)


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
