"""`outreach demo` (the demo service) and `outreach demo seed` (a month of demo traffic)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from campaigns.registry.models import Campaign, Hotline
from outreach.cli.context import cli_settings, console, load_campaigns, open_context
from outreach.cli.service import run_service
from outreach.core.context import AppContext
from outreach.demo import DEMO_FILE
from outreach.demo.seed import seed as run_seed

demo_app = typer.Typer(help="Run the demo service, or seed demo data.", no_args_is_help=False)


@demo_app.callback(invoke_without_command=True)
def demo(
    typer_ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Bind address.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Load and print only.")] = False,
) -> None:
    """Run the demo: a SQLite file, the demo campaigns loaded and printed, then the service."""
    if typer_ctx.invoked_subcommand is not None:
        return
    settings = cli_settings(demo=True, host=host, port=port)
    if "public_url" not in settings.model_fields_set:
        # Without a configured public URL the demo is its own: audio and Gather URLs point here.
        settings = settings.model_copy(update={"public_url": f"http://{host}:{port}"})
    ctx = open_context(settings)
    load_campaigns(ctx, DEMO_FILE, at_start=True)
    _print_entry_points(ctx)
    ctx.engine.dispose()
    console.print(
        "\nTry it with no phone, in another terminal:\n"
        f'  outreach text --to +994502000101 --from +994501234567 "iş"\n'
        f"  outreach call --to +994125550101 --from +994501234567\n"
        f"Service on http://{host}:{port} (Twilio webhooks under /twilio/…)"
    )
    if not no_serve:
        run_service(settings)


@demo_app.command("seed")
def demo_seed(
    days: Annotated[int, typer.Option(min=1, max=400, help="Days of traffic.")] = 30,
    end: Annotated[str | None, typer.Option(help="Last day (default: now).")] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 7,
    scale: Annotated[float, typer.Option(min=0.1, max=100, help="Traffic multiplier.")] = 1.0,
) -> None:
    """Generate a month of anonymous demo traffic through the webhooks' service code."""
    settings = cli_settings(demo=True)
    ctx = open_context(settings)
    load_campaigns(ctx, DEMO_FILE, at_start=True)
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


def _print_entry_points(ctx: AppContext) -> None:
    table = Table(title="Demo campaigns: numbers and keywords")
    for column in ("campaign", "medium", "numbers", "keywords", "PSA", "voice"):
        table.add_column(column)
    with ctx.sessions() as session:
        for c in session.scalars(select(Campaign).order_by(Campaign.id)):
            voice = (c.options.get("voice") or {}).get("flow", "")
            table.add_row(
                c.code,
                str(c.medium),
                " ".join(n.number for n in c.numbers),
                " ".join(f"{k.keyword}({k.language})" for k in c.keywords),
                " ".join(c.options.get("psa_codes", [])),
                voice,
            )
        for h in session.scalars(select(Hotline)):
            table.add_row(h.name, "hotline", h.number, "", "", h.options.get("flow") or "")
    Console(width=max(console.width, 150)).print(table)
