"""Report commands: report, airings, users, rollups, export, demo seed."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.console import Console

from campaigns.reports.filters import FilterError, ReportFilter
from campaigns.reports.render import print_report
from outreach.core.context import AppContext

console = Console()
airings_app = typer.Typer(help="Radio and TV airings (for the lift report).", no_args_is_help=True)
users_app = typer.Typer(help="Dashboard and API users.", no_args_is_help=True)
rollups_app = typer.Typer(help="Report rollups.", no_args_is_help=True)

FromOpt = Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD.")]
ToOpt = Annotated[str | None, typer.Option("--to", help="Last day, YYYY-MM-DD (default today).")]


def context() -> AppContext:
    from outreach.cli.service import cli_settings
    from outreach.core.db import upgrade_schema

    ctx = AppContext.from_settings(cli_settings())
    upgrade_schema(ctx.engine)
    return ctx


def report_filter(ctx: AppContext, start: str | None, end: str | None, **kw: Any) -> ReportFilter:
    from campaigns.reports.filters import parse_day

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
    from campaigns.reports import service
    from outreach.core.db import session_scope

    ctx = context()
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


@airings_app.command("import")
def airings_import(file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)]) -> None:
    """Import airings from a CSV file: campaign,station,aired_at,duration_seconds."""
    from campaigns.airings.service import AiringError, import_csv
    from outreach.core.db import session_scope

    ctx = context()
    try:
        with session_scope(ctx.sessions) as session:
            added, problems = import_csv(session, text=file.read_text(encoding="utf-8-sig"))
    except AiringError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    for problem in problems:
        console.print(f"[yellow]skipped {problem}[/yellow]")
    console.print(f"imported {added} airing(s), skipped {len(problems)}")


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Argument()],
    role: Annotated[str, typer.Option(help="viewer or manager")] = "viewer",
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            envvar="OUTREACH_NEW_USER_PASSWORD",
        ),
    ] = "",
    token: Annotated[
        str | None, typer.Option(help="Also create an API token with this name.")
    ] = None,
) -> None:
    """Add a user (password hashed with argon2id); optionally print a new API token."""
    from outreach.core.db import session_scope
    from outreach.web.auth.models import Role
    from outreach.web.auth.service import AuthError, create_token, create_user

    if role not in {r.value for r in Role}:
        console.print("[red]role must be viewer or manager[/red]")
        raise typer.Exit(2)
    ctx = context()
    try:
        with session_scope(ctx.sessions) as session:
            user = create_user(session, username=username, password=password, role=Role(role))
            secret = create_token(session, user=user, name=token) if token else None
    except AuthError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    console.print(f"created {role} {username!r}")
    if secret:
        console.print("API token (shown once; send it as 'Authorization: Bearer …'):")
        typer.echo(secret)


@users_app.command("token")
def users_token(username: str, name: Annotated[str, typer.Option()] = "script") -> None:
    """Create an API token for an existing user and print it once."""
    from sqlalchemy import select

    from outreach.core.db import session_scope
    from outreach.web.auth.models import User
    from outreach.web.auth.service import create_token

    ctx = context()
    with session_scope(ctx.sessions) as session:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            console.print(f"[red]no user {username!r}[/red]")
            raise typer.Exit(1)
        typer.echo(create_token(session, user=user, name=name))


@rollups_app.command("rebuild")
def rollups_rebuild() -> None:
    """Rebuild every report rollup from the raw log."""
    import time

    from campaigns.reports import rollups, service
    from outreach.core.db import session_scope

    ctx = context()
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


def demo_seed(
    days: Annotated[int, typer.Option(min=1, max=400, help="Days of traffic.")] = 30,
    end: Annotated[str | None, typer.Option(help="Last day (default: now).")] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 7,
    scale: Annotated[float, typer.Option(min=0.1, max=100, help="Traffic multiplier.")] = 1.0,
) -> None:
    """Generate a month of anonymous demo traffic through the webhooks' service code."""
    from datetime import datetime

    from outreach.cli.service import DEMO_FILE, _load_campaigns, cli_settings
    from outreach.demo.seed import seed as run_seed

    settings = cli_settings(demo=True)
    _load_campaigns(settings, DEMO_FILE)
    ctx = AppContext.from_settings(settings)
    finish = None
    if end:
        zone = ZoneInfo(settings.default_timezone)
        finish = datetime.combine(
            date.fromisoformat(end) + timedelta(days=1), datetime.min.time(), zone
        )
    stats = run_seed(ctx, days=days, end=finish, rng_seed=seed, scale=scale)
    console.print(
        f"seeded {stats.calls} calls, {stats.texts} texts, {stats.airings} airings, "
        f"{stats.followups_sent} follow-ups sent"
    )


def register(app: typer.Typer) -> None:
    """Adds the report commands to the root CLI (and `seed` to `outreach demo`)."""
    app.command("report")(report)
    app.add_typer(airings_app, name="airings")
    app.add_typer(users_app, name="users")
    app.add_typer(rollups_app, name="rollups")
    from outreach.cli.export import export_app

    app.add_typer(export_app, name="export")
    from outreach.cli.service import demo_app

    demo_app.command("seed")(demo_seed)
