"""Report commands: `outreach report` and `outreach rollups rebuild`."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from enum import StrEnum
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.console import Console

from campaigns.registry.enums import Channel, Language, Medium
from campaigns.reports import rollups, service
from campaigns.reports.filters import FilterError, ReportFilter, parse_day
from campaigns.reports.render import print_report
from outreach.cli.context import open_context
from outreach.cli.errors import ExitCode, fail
from outreach.cli.output import console, piped, progress
from outreach.core.context import AppContext
from outreach.core.db import session_scope

rollups_app = typer.Typer(help="Report rollups.", no_args_is_help=True)

FromOpt = Annotated[
    str | None, typer.Option("--from", help="First day, YYYY-MM-DD (default: 29 days before --to).")
]
ToOpt = Annotated[str | None, typer.Option("--to", help="Last day, YYYY-MM-DD (default today).")]
# Unknown values are refused with the valid list (click.Choice from the enums), not zeros.
MediumOpt = Annotated[Medium | None, typer.Option(case_sensitive=False)]
LanguageOpt = Annotated[Language | None, typer.Option(case_sensitive=False)]
ChannelOpt = Annotated[Channel | None, typer.Option(case_sensitive=False)]


class Rows(StrEnum):
    """What a row of the channel comparison is."""

    MEDIUM = "medium"
    CAMPAIGN = "campaign"


ByOpt = Annotated[Rows, typer.Option("--by", help="Channel comparison rows: medium or campaign.")]


def report_filter(ctx: AppContext, start: str | None, end: str | None, **kw: Any) -> ReportFilter:
    """The filter of a report command: local days (the last 30 by default), or exit 2."""
    today = ctx.clock().astimezone(ZoneInfo(ctx.settings.default_timezone)).date()
    try:
        last = parse_day(end, default=today)
        first = parse_day(start, default=last - timedelta(days=29))
    except FilterError as exc:
        fail(str(exc))
    if first > last:
        fail(f"--to {last} is before --from {first}")
    values = {k: (str(v) if v is not None else None) or None for k, v in kw.items()}
    return ReportFilter(start=first, end=last, **values)


def report(
    start: FromOpt = None,
    end: ToOpt = None,
    campaign: Annotated[str | None, typer.Option(help="Campaign code.")] = None,
    medium: MediumOpt = None,
    region: Annotated[str | None, typer.Option()] = None,
    language: LanguageOpt = None,
    channel: ChannelOpt = None,
    by: ByOpt = Rows.MEDIUM,
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
            table = service.channels(**kw, by=str(by))
    except FilterError as exc:
        fail(str(exc))
    if as_json:
        both = {
            "report": data.model_dump(mode="json", by_alias=True),
            "channels": table.model_dump(mode="json", by_alias=True),
        }
        typer.echo(json.dumps(both, indent=2))
        return
    # Piped, the tables keep their full width (no codes or numbers cut at 80 columns).
    print_report(Console(width=200, soft_wrap=True) if piped() else console, data, table)


@rollups_app.command("rebuild")
def rollups_rebuild() -> None:
    """Rebuild every report rollup from the raw log."""
    ctx = open_context()
    started = time.perf_counter()
    try:
        with progress("rebuilding rollups"), session_scope(ctx.sessions) as session:
            stats = service.rebuild(session, settings=ctx.settings, now=ctx.clock())
    except rollups.PurgedError as exc:
        fail(str(exc), ExitCode.PROBLEMS)
    console.print(
        f"rebuilt {stats.hours} hours from {stats.contacts_rows} interactions "
        f"in {time.perf_counter() - started:.1f} s"
    )
