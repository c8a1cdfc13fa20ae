"""`outreach demo` (the demo service) and `outreach demo seed` (a month of demo traffic)."""

from __future__ import annotations

import os
import signal
from datetime import date, datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from sqlalchemy import select

from campaigns.registry.changes import FileConflicts
from campaigns.registry.models import Campaign, Hotline
from campaigns.registry.service import InvalidCampaignFile
from outreach.cli.context import cli_settings, console, open_context
from outreach.cli.errors import ExitCode, fail
from outreach.cli.output import progress, show_table
from outreach.cli.service import run_service
from outreach.core.context import AppContext
from outreach.core.db import session_scope
from outreach.demo import DEMO_FILE
from outreach.demo.campaigns import load_demo
from outreach.demo.fake_twilio import DEMO_ACCOUNT_SID, FakeTwilio
from outreach.demo.seed import seed as run_seed
from outreach.demo.state import DemoState, clear_state, write_state

demo_app = typer.Typer(help="Run the demo service, or seed demo data.", no_args_is_help=False)


@demo_app.callback(invoke_without_command=True)
def demo(
    typer_ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Bind address.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port.")] = 8000,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Load and print only.")] = False,
    fake_twilio: Annotated[
        bool,
        typer.Option(
            "--fake-twilio", help="Send follow-ups to a local Twilio stand-in and show them."
        ),
    ] = False,
) -> None:
    """Run the demo: a SQLite file, the demo campaigns dated around today, then the service."""
    if typer_ctx.invoked_subcommand is not None:
        return
    settings = cli_settings(demo=True, host=host, port=port)
    if "public_url" not in settings.model_fields_set:
        # Without a configured public URL the demo is its own: audio and Gather URLs point here.
        settings = settings.model_copy(update={"public_url": f"http://{host}:{port}"})
    if not settings.flows_dir:
        # The demo's flow files: the browser's "Import flow files" and new campaigns' flows.
        settings = settings.model_copy(update={"flows_dir": str(DEMO_FILE.resolve().parent)})
    ctx = open_context(settings)
    load_demo_campaigns(ctx, day=_today(ctx))
    _print_entry_points(ctx)
    ctx.engine.dispose()
    console.print(
        "\nTry it with no phone, in another terminal:\n"
        f'  outreach text --to +994502000101 --from +994501234567 "iş"\n'
        f"  outreach call --to +994125550101 --from +994501234567\n"
        f"Service on {settings.public_url} (Twilio webhooks under /twilio/…)"
    )
    if no_serve:
        return
    stand_in = None
    if fake_twilio:
        stand_in = FakeTwilio(auth_token=settings.twilio_auth_token, say=_say).start()
        settings = settings.model_copy(
            update={
                "twilio_account_sid": settings.twilio_account_sid or DEMO_ACCOUNT_SID,
                "twilio_api_base_url": stand_in.base_url,
            }
        )
        console.print(f"Twilio stand-in on {stand_in.base_url}: follow-ups show here")
    write_state(
        settings,
        DemoState(
            url=settings.public_url,
            pid=os.getpid(),
            twilio_url=stand_in.base_url if stand_in else "",
        ),
    )
    # uvicorn re-raises a SIGTERM once it has shut down; exiting then still runs `finally`.
    signal.signal(signal.SIGTERM, _exit_on_term)
    try:
        run_service(settings)
    finally:
        clear_state(settings)
        if stand_in is not None:
            stand_in.stop()


@demo_app.command("seed")
def demo_seed(
    days: Annotated[int, typer.Option(min=1, max=400, help="Days of traffic.")] = 30,
    end: Annotated[str | None, typer.Option(help="Last day, YYYY-MM-DD (default: now).")] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 7,
    scale: Annotated[float, typer.Option(min=0.1, max=100, help="Traffic multiplier.")] = 1.0,
) -> None:
    """Generate a month of anonymous demo traffic through the webhooks' service code."""
    settings = cli_settings(demo=True)
    zone = ZoneInfo(settings.default_timezone)
    finish = None
    if end:
        try:
            last = date.fromisoformat(end)
        except ValueError:
            fail(f"--end {end!r} is not a day like 2027-02-10")
        finish = datetime.combine(last + timedelta(days=1), datetime.min.time(), zone)
    ctx = open_context(settings)
    load_demo_campaigns(ctx, day=(finish - timedelta(days=1)).date() if finish else _today(ctx))
    with progress(f"seeding {days} day(s) of demo traffic") as steps:
        stats = run_seed(ctx, days=days, end=finish, rng_seed=seed, scale=scale, progress=steps)
    console.print(
        f"seeded {stats.calls} calls, {stats.texts} texts, {stats.airings} airings, "
        f"{stats.followups_sent} follow-ups sent"
    )


def load_demo_campaigns(ctx: AppContext, *, day: date) -> None:
    """Loads the demo campaigns dated around `day` and says what changed."""
    zone = ctx.settings.default_timezone
    try:
        with session_scope(ctx.sessions) as session:
            result = load_demo(session, day=day, default_timezone=zone)
    except InvalidCampaignFile as exc:
        fail("; ".join(exc.problems), ExitCode.PROBLEMS)
    except FileConflicts as exc:  # edited in the browser since: the demo keeps those edits
        console.print("not reloading the demo campaigns:", style="yellow", markup=False)
        for conflict in exc.conflicts:
            console.print(f"  {conflict}", markup=False, highlight=False, soft_wrap=True)
        return
    console.print(
        f"demo campaigns around {day}: {len(result.created)} created, "
        f"{len(result.updated)} updated, {len(result.unchanged)} unchanged"
    )


def _exit_on_term(signum: int, frame: object) -> None:
    raise SystemExit(0)


def _say(line: str) -> None:
    console.print(line, markup=False, highlight=False)


def _today(ctx: AppContext) -> date:
    return ctx.clock().astimezone(ZoneInfo(ctx.settings.default_timezone)).date()


def _print_entry_points(ctx: AppContext) -> None:
    rows: list[list[str]] = []
    with ctx.sessions() as session:
        for c in session.scalars(select(Campaign).order_by(Campaign.id)):
            voice = (c.options.get("voice") or {}).get("flow", "")
            rows.append(
                [
                    c.code,
                    str(c.medium),
                    f"{c.start_date}..{c.end_date}",
                    " ".join(n.number for n in c.numbers),
                    " ".join(f"{k.keyword}({k.language})" for k in c.keywords),
                    " ".join(c.options.get("psa_codes", [])),
                    voice,
                ]
            )
        for h in session.scalars(select(Hotline)):
            rows.append([h.name, "hotline", "", h.number, "", "", h.options.get("flow") or ""])
    columns = ("campaign", "medium", "dates", "numbers", "keywords", "PSA", "voice")
    show_table("Demo campaigns: numbers and keywords", columns, rows)
