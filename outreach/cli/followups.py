"""Commands: `outreach worker` (the dispatcher process) and `outreach followups stats`."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from campaigns.followups.dispatcher import Dispatcher
from campaigns.followups.metrics import followup_stats
from campaigns.followups.tasks import can_send, run_worker
from campaigns.registry.models import Campaign
from outreach.cli.context import open_context

console = Console()
followups_app = typer.Typer(
    help="Follow-up SMS series: numbers and dispatch.", no_args_is_help=True
)


def worker(
    once: Annotated[bool, typer.Option("--once", help="Send what is due now, then exit.")] = False,
) -> None:
    """Run the follow-up dispatcher (use with OUTREACH_SCHEDULER_ENABLED=0 on the service)."""
    ctx = open_context(logs=True)
    if not can_send(ctx):
        console.print("[red]set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN to send follow-ups[/red]")
        raise typer.Exit(2)
    if once:
        report = Dispatcher(ctx).run_until_idle()
        console.print(
            f"claimed {report.claimed}, sent {report.sent}, retried {report.retried}, "
            f"failed {report.failed}, cancelled {report.cancelled}, deferred {report.deferred}"
        )
        return
    run_worker(ctx)


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
                console.print(f"[red]no campaign {campaign!r}[/red]")
                raise typer.Exit(1)
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
    table = Table(*columns)
    table.add_column("campaign", no_wrap=True)
    table.columns.insert(0, table.columns.pop())
    for row in rows:
        table.add_row(row.campaign_code, *(str(getattr(row, c)) for c in columns))
    console.print(table if rows else "no follow-up activity yet")
