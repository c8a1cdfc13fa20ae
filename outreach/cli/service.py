"""Service commands: `serve`, `db upgrade|check` and the no-phone SMS client `text`."""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any
from xml.etree import ElementTree

import typer
import uvicorn
from alembic import command
from alembic.util.exc import CommandError

from outreach.app import create_app, settle_heap
from outreach.cli.context import cli_settings, console, load_campaigns, open_context
from outreach.cli.errors import ExitCode, check_numbers, fail
from outreach.cli.output import quiet_alembic
from outreach.core.db import SchemaError, alembic_config, make_engine, upgrade_schema
from outreach.core.logs import setup_logging
from outreach.core.metrics import MULTIPROC_ENV, multiprocess_dir
from outreach.core.settings import Settings, env_name
from outreach.demo.client import NoService, find_demo, post_signed

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)


def run_service(settings: Settings) -> None:
    """Starts uvicorn on the app (schema migrated first, or exit 3 with the reason)."""
    setup_logging(settings.log_level, settings.log_format)
    quiet_alembic()
    if settings.web_workers > 1:
        _run_workers(settings)
        return
    try:
        app = create_app(settings)
    except SchemaError as exc:
        console.print(f"[red]refusing to start:[/red] {exc}")
        raise typer.Exit(3) from exc
    settle_heap()
    uvicorn.run(app, **_uvicorn_options(settings))


def _uvicorn_options(settings: Settings) -> dict[str, Any]:
    # One setting governs forwarded headers in both layers: uvicorn believes them (client
    # address, scheme) only from OUTREACH_TRUSTED_PROXIES. By default it would believe anyone
    # connecting from loopback, and rotating X-Forwarded-For would get round the login throttle.
    trusted = [str(network) for network in settings.trusted_proxy_networks()]
    return {
        "host": settings.host,
        "port": settings.port,
        "loop": settings.serve_loop(),
        "log_config": None,
        "proxy_headers": bool(trusted),
        "forwarded_allow_ips": trusted or None,
    }


def _run_workers(settings: Settings) -> None:
    """Runs OUTREACH_WEB_WORKERS uvicorn workers, their metrics in one multiprocess folder."""
    try:
        upgrade_schema(make_engine(settings.database_url))  # once, before any worker starts
    except SchemaError as exc:
        console.print(f"[red]refusing to start:[/red] {exc}")
        raise typer.Exit(3) from exc
    # The workers are fresh interpreters: they read these settings from their environment.
    for field in Settings.model_fields:
        value = getattr(settings, field)
        os.environ[env_name(field)] = str(int(value)) if isinstance(value, bool) else str(value)
    with metrics_folder():
        uvicorn.run(
            "outreach.app:create_worker_app",
            factory=True,
            workers=settings.web_workers,
            **_uvicorn_options(settings),
        )


@contextmanager
def metrics_folder() -> Iterator[Path]:
    """The multiprocess metrics folder: PROMETHEUS_MULTIPROC_DIR emptied, or a temporary one.

    It is emptied at start: files left by an earlier run would add its counts to this one's.
    """
    given = multiprocess_dir()
    if given:
        folder = Path(given)
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.db"):
            stale.unlink()
        yield folder
        return
    with tempfile.TemporaryDirectory(prefix="outreach-metrics-") as tmp:
        os.environ[MULTIPROC_ENV] = tmp
        try:
            yield Path(tmp)
        finally:
            os.environ.pop(MULTIPROC_ENV, None)


def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (OUTREACH_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (OUTREACH_PORT).")] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, max=64, help="Worker processes (OUTREACH_WEB_WORKERS).")
    ] = None,
) -> None:
    """Run the service (migrates the schema; loads OUTREACH_CAMPAIGNS_FILE if set)."""
    given = {"host": host, "port": port, "web_workers": workers}
    overrides: dict[str, Any] = {k: v for k, v in given.items() if v}
    settings = cli_settings(serving=True, **overrides)
    if settings.campaigns_file:
        ctx = open_context(settings)
        load_campaigns(ctx, Path(settings.campaigns_file), at_start=True)
        ctx.engine.dispose()
    run_service(settings)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Upgrade the database schema to the newest migration."""
    settings = cli_settings(secrets=False)
    try:
        upgrade_schema(make_engine(settings.database_url))
    except SchemaError as exc:
        fail(str(exc), ExitCode.REFUSED)
    console.print("schema is up to date")


@db_app.command("check")
def db_check() -> None:
    """Fail if the models have changes no migration covers (alembic check, on a scratch DB)."""
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/check.db"
        engine = make_engine(url)
        upgrade_schema(engine)
        engine.dispose()
        try:
            command.check(alembic_config(url))
        except CommandError as exc:
            console.print(f"[red]{exc}[/red]")
            raise typer.Exit(1) from exc
    console.print("migrations match the models")


def text(
    body: Annotated[str, typer.Argument(help="The message text.")],
    to: Annotated[str, typer.Option("--to", help="The number texted (a campaign number).")],
    from_: Annotated[str, typer.Option("--from", help="The sender.")] = "+994501234567",
    url: Annotated[
        str | None, typer.Option(help="Service base URL (default: the public URL).")
    ] = None,
    in_process: Annotated[
        bool, typer.Option("--in-process", help="Skip HTTP; run the app here.")
    ] = False,
    whatsapp: Annotated[bool, typer.Option(help="Send as WhatsApp.")] = False,
) -> None:
    """Send a signed inbound SMS to the service and print the reply (no phone needed)."""
    check_numbers(to=to, from_=from_)
    settings = find_demo(cli_settings(), url)
    sender = f"whatsapp:{from_}" if whatsapp else from_
    recipient = f"whatsapp:{to}" if whatsapp else to
    params = {
        "MessageSid": "SM" + secrets.token_hex(16),
        "AccountSid": settings.twilio_account_sid or "AC" + "0" * 32,
        "From": sender,
        "To": recipient,
        "Body": body,
        "NumMedia": "0",
        "SmsStatus": "received",
        "ApiVersion": "2010-04-01",
    }
    try:
        status, reply = post_signed(settings, "/twilio/sms", params, url=url, in_process=in_process)
    except NoService as exc:
        fail(str(exc))
    if status != 200:
        fail(f"HTTP {status} {reply}", ExitCode.PROBLEMS)
    messages = [m.text or "" for m in ElementTree.fromstring(reply).iter("Message")]
    console.print("\n".join(messages) if messages else "(no reply)")
