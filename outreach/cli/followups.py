"""Commands: `outreach worker` (every background job) and `outreach followups stats`."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from sqlalchemy import select

from campaigns.followups.metrics import followup_stats
from campaigns.registry.models import Campaign
from outreach import jobs
from outreach.cli.context import open_context
from outreach.cli.errors import ExitCode, fail
from outreach.cli.output import console, show_table

followups_app = typer.Typer(
    help="Follow-up SMS series: numbers and dispatch.", no_args_is_help=True
)


def worker(
    once: Annotated[bool, typer.Option("--once", help="Run every job once, then exit.")] = False,
) -> None:
    """Run every background job (use with OUTREACH_SCHEDULER_ENABLED=0 on the service).

    The jobs: follow-up dispatch, callback retries, rollup refresh and the retention purge.
    Any number of services and workers may run; each job runs once per tick among them.
    Without Twilio credentials follow-ups stay pending (a warning says so); the rest runs.
    """
    ctx = open_context(logs=True, serving=True)
    if not once:
        jobs.run_worker(ctx)
        return
    errors = jobs.run_all_once(ctx)
    for name, error in errors.items():
        console.print(f"{name}: " + (f"[red]failed ({error})[/red]" if error else "done"))
    if any(errors.values()):
        raise typer.Exit(int(ExitCode.PROBLEMS))


@followups_app.command("stats")
def stats(
    campaign: Annotated[str | None, typer.Option(help="Only this campaign code.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines instead.")] = False,
) -> None:
    """Show opt-ins, messages scheduled, sent, delivered, failed and opt-outs per campaign."""

    ctx = open_context(logs=True)
    with ctx.sessions() as session:
        campaign_id = None
        if campaign:
            campaign_id = session.scalar(select(Campaign.id).where(Campaign.code == campaign))
            if campaign_id is None:
                fail(f"no campaign {campaign!r} (see `outreach campaigns list`)")
        rows = followup_stats(session, campaign_id=campaign_id)
    if as_json:
        for row in rows:
            typer.echo(json.dumps(row.as_dict()))
        return
    columns = (
        "opt_ins",
        "scheduled",
        "sent",
        "delivered",
        "undelivered",
        "failed",
        "cancelled",
        "pending",
        "opt_outs",
    )
    if not rows:
        console.print("no follow-up activity yet")
        return
    cells = [[row.campaign_code, *(str(getattr(row, c)) for c in columns)] for row in rows]
    show_table("Follow-ups", ("campaign", *columns), cells)
