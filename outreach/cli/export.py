"""Export commands: FLOIP Flow Results packages and report tables as CSV."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer

from campaigns.reports import csvexport, floip, service
from campaigns.reports.filters import resolve
from outreach.cli.context import console, open_context
from outreach.cli.reports import FromOpt, ToOpt, report_filter
from outreach.core.db import session_scope

export_app = typer.Typer(help="Exports: FLOIP Flow Results, CSV.", no_args_is_help=True)


@export_app.command("floip")
def export_floip(
    flow: Annotated[str, typer.Argument(help="Flow id, e.g. radio or hotline.")],
    out: Annotated[Path, typer.Option(help="Directory to write the package to.")] = Path("."),
    start: FromOpt = None,
    end: ToOpt = None,
) -> None:
    """Write a FLOIP Flow Results package (datapackage.json + responses.json)."""
    ctx = open_context()
    flt = report_filter(ctx, start, end)
    with session_scope(ctx.sessions) as session:
        try:
            definition = floip.find_flow(session, flow)
        except floip.UnknownFlow as exc:
            console.print(f"[red]{exc}[/red]")
            raise typer.Exit(1) from exc
        scope = resolve(session, flt, zone=ZoneInfo(ctx.settings.default_timezone))
        rows = floip.rows(session, flow=definition, start=scope.utc_start, end=scope.utc_end)
    out.mkdir(parents=True, exist_ok=True)
    package = floip.descriptor(definition, now=ctx.clock(), path="responses.json")
    text = json.dumps(package.model_dump(mode="json", by_alias=True), indent=2, ensure_ascii=False)
    (out / "datapackage.json").write_text(text)
    (out / "responses.json").write_text(json.dumps(rows, ensure_ascii=False))
    console.print(f"wrote {out / 'datapackage.json'} and {len(rows)} response row(s)")


@export_app.command("csv")
def export_csv(
    kind: Annotated[
        str, typer.Argument(help="summary, channels, funnel, topics, daily, lift, stations")
    ],
    start: FromOpt = None,
    end: ToOpt = None,
    campaign: Annotated[str | None, typer.Option()] = None,
    exact: Annotated[bool, typer.Option("--exact")] = False,
    out: Annotated[Path | None, typer.Option(help="File (default: standard output).")] = None,
) -> None:
    """Write one report table as CSV (small cells hidden unless --exact)."""
    if kind not in csvexport.KINDS:
        console.print(f"[red]unknown export {kind!r}[/red]")
        raise typer.Exit(2)
    ctx = open_context()
    flt = report_filter(ctx, start, end, campaign=campaign)
    with session_scope(ctx.sessions) as session:
        kw: dict[str, Any] = {
            "session": session,
            "settings": ctx.settings,
            "flt": flt,
            "now": ctx.clock(),
            "exact": exact,
        }
        if kind == "channels":
            text = csvexport.render(kind, service.channels(**kw))
        elif kind in ("lift", "stations"):
            text = csvexport.render(kind, service.airing_lift(**kw))
        else:
            text = csvexport.render(kind, service.report(**kw))
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
