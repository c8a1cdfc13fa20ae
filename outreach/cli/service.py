"""Service commands: `serve`, `db upgrade|check` and the no-phone SMS client `text`."""

from __future__ import annotations

import secrets
import tempfile
from pathlib import Path
from typing import Annotated, Any
from xml.etree import ElementTree

import typer
import uvicorn
from alembic import command
from alembic.util.exc import CommandError

from outreach.app import create_app
from outreach.cli.context import cli_settings, console, load_campaigns, open_context
from outreach.core.db import SchemaError, alembic_config, make_engine, upgrade_schema
from outreach.core.logs import setup_logging
from outreach.core.settings import Settings
from outreach.demo.client import NoService, post_signed

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)


def run_service(settings: Settings) -> None:
    """Starts uvicorn on the app (schema migrated first, or exit 3 with the reason)."""
    setup_logging(settings.log_level)
    try:
        app = create_app(settings)
    except SchemaError as exc:
        console.print(f"[red]refusing to start:[/red] {exc}")
        raise typer.Exit(3) from exc
    # One setting governs forwarded headers in both layers: uvicorn believes them (client
    # address, scheme) only from OUTREACH_TRUSTED_PROXIES. By default it would believe anyone
    # connecting from loopback, and rotating X-Forwarded-For would get round the login throttle.
    trusted = [str(network) for network in settings.trusted_proxy_networks()]
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted or None,
    )


def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (OUTREACH_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (OUTREACH_PORT).")] = None,
) -> None:
    """Run the service (migrates the schema; loads OUTREACH_CAMPAIGNS_FILE if set)."""
    overrides: dict[str, Any] = {k: v for k, v in {"host": host, "port": port}.items() if v}
    settings = cli_settings(serving=True, **overrides)
    if settings.campaigns_file:
        ctx = open_context(settings)
        load_campaigns(ctx, Path(settings.campaigns_file), at_start=True)
        ctx.engine.dispose()
    run_service(settings)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Upgrade the database schema to the newest migration."""
    settings = cli_settings()
    try:
        upgrade_schema(make_engine(settings.database_url))
    except SchemaError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(3) from exc
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
    settings = cli_settings()
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
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    if status != 200:
        console.print(f"[red]HTTP {status}[/red] {reply}")
        raise typer.Exit(1)
    messages = [m.text or "" for m in ElementTree.fromstring(reply).iter("Message")]
    console.print("\n".join(messages) if messages else "(no reply)")
