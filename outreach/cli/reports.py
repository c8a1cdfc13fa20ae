"""Report commands: `outreach report` and `outreach rollups rebuild`."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.console import Console

from campaigns.reports import rollups, service
from campaigns.reports.filters import FilterError, ReportFilter, parse_day
from campaigns.reports.render import print_report
from outreach.cli.context import open_context
from outreach.core.context import AppContext
from outreach.core.db import session_scope

console = Console()
rollups_app = typer.Typer(help="Report rollups.", no_args_is_help=True)

FromOpt = Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD.")]
ToOpt = Annotated[str | None, typer.Option("--to", help="Last day, YYYY-MM-DD (default today).")]


def report_filter(ctx: AppContext, start: str | None, end: str | None, **kw: Any) -> ReportFilter:

    today = ctx.clock().astimezone(ZoneInfo(ctx.settings.default_timezone)).date()
    try:
        last = parse_day(end, default=today)
        first = parse_day(start, default=last - timedelta(days=29))
    except FilterError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    return ReportFilter(start=first, end=last, **{k: v or None for k, v in kw.items()})


def report(
    start: FromOpt = None,
    end: ToOpt = None,
    campaign: Annotated[str | None, typer.Option(help="Campaign code.")] = None,
    medium: Annotated[str | None, typer.Option()] = None,
    region: Annotated[str | None, typer.Option()] = None,
    language: Annotated[str | None, typer.Option()] = None,
    channel: Annotated[str | None, typer.Option()] = None,
    exact: Annotated[bool, typer.Option("--exact", help="Show small cells (managers).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON the API gives.")] = False,
) -> None:
    """Print a reach report: the same numbers as the API and the dashboard."""
    ctx = open_context()
    flt = report_filter(
        ctx,
        start,
        end,
        campaign=campaign,
        medium=medium,
        region=region,
        language=language,
        channel=channel,
    )
    try:
        with session_scope(ctx.sessions) as session:
            kw: dict[str, Any] = {
                "session": session,
                "settings": ctx.settings,
                "flt": flt,
                "now": ctx.clock(),
                "exact": exact,
            }
            data = service.report(**kw)
            table = service.channels(**kw)
    except FilterError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    if as_json:
        both = {
            "report": data.model_dump(mode="json", by_alias=True),
            "channels": table.model_dump(mode="json", by_alias=True),
        }
        typer.echo(json.dumps(both, indent=2))
        return
    print_report(console, data, table)


@rollups_app.command("rebuild")
def rollups_rebuild() -> None:
    """Rebuild every report rollup from the raw log."""

    ctx = open_context()
    started = time.perf_counter()
    try:
        with session_scope(ctx.sessions) as session:
            stats = service.rebuild(session, settings=ctx.settings, now=ctx.clock())
    except rollups.PurgedError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    console.print(
        f"rebuilt {stats.hours} hours from {stats.contacts_rows} interactions "
        f"in {time.perf_counter() - started:.1f} s"
    )
