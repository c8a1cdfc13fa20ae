"""Export commands: FLOIP Flow Results packages and report tables as CSV."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer

from campaigns.reports import csvexport, floip, service
from campaigns.reports.filters import FilterError, resolve
from outreach.cli.context import console, open_context
from outreach.cli.errors import fail
from outreach.cli.output import progress
from outreach.cli.reports import FromOpt, ToOpt, report_filter
from outreach.core.db import session_scope

export_app = typer.Typer(help="Exports: FLOIP Flow Results, CSV.", no_args_is_help=True)
CsvKind = StrEnum("CsvKind", {kind: kind for kind in csvexport.KINDS})  # type: ignore[misc]


def _writable_dir(out: Path) -> None:
    """Refuses an output directory whose parent does not exist (a typo, not a new tree)."""
    if out.exists() and not out.is_dir():
        fail(f"--out {out} is a file, not a directory")
    if not out.exists() and not out.parent.is_dir():
        fail(f"--out {out}: the folder {out.parent} does not exist")


@export_app.command("floip")
def export_floip(
    flow: Annotated[str, typer.Argument(help="Flow id, e.g. radio or hotline.")],
    out: Annotated[Path, typer.Option(help="Directory to write the package to.")] = Path("."),
    start: FromOpt = None,
    end: ToOpt = None,
) -> None:
    """Write a FLOIP Flow Results package (datapackage.json + responses.json)."""
    _writable_dir(out)
    ctx = open_context()
    flt = report_filter(ctx, start, end)
    with progress(f"exporting flow {flow}"), session_scope(ctx.sessions) as session:
        try:
            definition = floip.find_flow(session, flow)
            scope = resolve(session, flt, zone=ZoneInfo(ctx.settings.default_timezone))
        except (floip.UnknownFlow, FilterError) as exc:
            fail(str(exc))
        rows = floip.rows(session, flow=definition, start=scope.utc_start, end=scope.utc_end)
    out.mkdir(exist_ok=True)
    package = floip.descriptor(definition, now=ctx.clock(), path="responses.json")
    text = json.dumps(package.model_dump(mode="json", by_alias=True), indent=2, ensure_ascii=False)
    (out / "datapackage.json").write_text(text)
    (out / "responses.json").write_text(json.dumps(rows, ensure_ascii=False))
    console.print(f"wrote {out / 'datapackage.json'} and {len(rows)} response row(s)")


@export_app.command("csv")
def export_csv(
    kind: Annotated[CsvKind, typer.Argument(help="Which report table.")],
    start: FromOpt = None,
    end: ToOpt = None,
    campaign: Annotated[str | None, typer.Option()] = None,
    exact: Annotated[bool, typer.Option("--exact")] = False,
    out: Annotated[Path | None, typer.Option(help="File (default: standard output).")] = None,
) -> None:
    """Write one report table as CSV (small cells hidden unless --exact)."""
    if out is not None and (out.is_dir() or not out.parent.is_dir()):
        fail(f"--out {out}: not a file in an existing folder")
    ctx = open_context()
    flt = report_filter(ctx, start, end, campaign=campaign)
    name = str(kind.value)
    try:
        with progress(f"exporting {name}"), session_scope(ctx.sessions) as session:
            kw: dict[str, Any] = {
                "session": session,
                "settings": ctx.settings,
                "flt": flt,
                "now": ctx.clock(),
                "exact": exact,
            }
            if name == "channels":
                text = csvexport.render(name, service.channels(**kw))
            elif name in ("lift", "stations"):
                text = csvexport.render(name, service.airing_lift(**kw))
            else:
                text = csvexport.render(name, service.report(**kw))
    except FilterError as exc:
        fail(str(exc))
    if out is None:
        typer.echo(text, nl=False)
        return
    out.write_text(text, encoding="utf-8")
    console.print(f"wrote {out}")
