"""Service commands: `serve`, `demo`, `db upgrade` and the no-phone SMS client `text`."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from outreach.core.settings import ConfigError, Settings

console = Console()
DEMO_FILE = Path(__file__).resolve().parents[2] / "campaigns" / "demo" / "campaigns.yaml"

demo_app = typer.Typer(help="Run the demo service, or seed demo data.", no_args_is_help=False)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)


def cli_settings(**overrides: Any) -> Settings:
    """Reads settings; uses the demo secrets beside the database when they exist."""
    settings = Settings(**overrides)
    if not settings.demo and not settings.twilio_auth_token and settings.secrets_path().exists():
        settings = settings.model_copy(update={"demo": True})
    try:
        return settings.ensure_secrets()
    except ConfigError as exc:
        console.print(f"[red]configuration error:[/red] {exc}")
        raise typer.Exit(2) from exc


def _run(settings: Settings) -> None:
    import uvicorn

    from outreach.app import create_app
    from outreach.core.db import SchemaError
    from outreach.core.logs import setup_logging

    setup_logging(settings.log_level)
    try:
        app = create_app(settings)
    except SchemaError as exc:
        console.print(f"[red]refusing to start:[/red] {exc}")
        raise typer.Exit(3) from exc
    uvicorn.run(app, host=settings.host, port=settings.port, log_config=None)


def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (OUTREACH_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (OUTREACH_PORT).")] = None,
) -> None:
    """Run the service (migrates the schema; loads OUTREACH_CAMPAIGNS_FILE if set)."""
    overrides: dict[str, Any] = {k: v for k, v in {"host": host, "port": port}.items() if v}
    settings = cli_settings(**overrides)
    if settings.campaigns_file:
        _load_campaigns(settings, Path(settings.campaigns_file))
    _run(settings)


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
    _load_campaigns(settings, DEMO_FILE)
    _print_entry_points(settings)
    console.print(
        "\nTry it with no phone, in another terminal:\n"
        f'  outreach text --to +994502000101 --from +994501234567 "iş"\n'
        f"  outreach call --to +994125550101 --from +994501234567\n"
        f"Service on http://{host}:{port} (Twilio webhooks under /twilio/…)"
    )
    if not no_serve:
        _run(settings)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Upgrade the database schema to the newest migration."""
    from outreach.core.db import SchemaError, make_engine, upgrade_schema

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
    import tempfile

    from alembic import command
    from alembic.util.exc import CommandError

    from outreach.core.db import alembic_config, make_engine, upgrade_schema

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


def _load_campaigns(settings: Settings, path: Path) -> None:
    from campaigns.registry.service import InvalidCampaignFile, load_file
    from outreach.core.db import make_engine, make_session_factory, session_scope, upgrade_schema

    engine = make_engine(settings.database_url)
    upgrade_schema(engine)
    try:
        with session_scope(make_session_factory(engine)) as session:
            result = load_file(session, path, default_timezone=settings.default_timezone)
    except InvalidCampaignFile as exc:
        for problem in exc.problems:
            console.print(f"[red]{problem}[/red]")
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()
    console.print(
        f"loaded {path.name}: {len(result.created)} created, {len(result.updated)} updated, "
        f"{len(result.unchanged)} unchanged"
    )


def _print_entry_points(settings: Settings) -> None:
    from campaigns.registry.models import Campaign, Hotline
    from outreach.core.db import make_engine, make_session_factory

    engine = make_engine(settings.database_url)
    table = Table(title="Demo campaigns: numbers and keywords")
    for column in ("campaign", "medium", "numbers", "keywords", "PSA", "voice"):
        table.add_column(column)
    with make_session_factory(engine)() as session:
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
    engine.dispose()
    Console(width=max(console.width, 150)).print(table)


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
    import secrets as _secrets

    params = {
        "MessageSid": "SM" + _secrets.token_hex(16),
        "AccountSid": settings.twilio_account_sid or "AC" + "0" * 32,
        "From": sender,
        "To": recipient,
        "Body": body,
        "NumMedia": "0",
        "SmsStatus": "received",
        "ApiVersion": "2010-04-01",
    }
    status, reply = post_signed(settings, "/twilio/sms", params, url=url, in_process=in_process)
    if status != 200:
        console.print(f"[red]HTTP {status}[/red] {reply}")
        raise typer.Exit(1)
    from xml.etree import ElementTree

    messages = [m.text or "" for m in ElementTree.fromstring(reply).iter("Message")]
    console.print("\n".join(messages) if messages else "(no reply)")


def post_signed(
    settings: Settings, path: str, params: dict[str, str], *, url: str | None, in_process: bool
) -> tuple[int, str]:
    """POSTs a Twilio-signed form to a running service, or in-process when none answers."""
    if not in_process:
        base = (url or settings.public_url).rstrip("/")
        # The service checks signatures against its public URL: ours when it is configured,
        # else the URL we post to (a local demo on another port is its own public URL).
        signed = settings.public_url if "public_url" in settings.model_fields_set else base
        try:
            resp = httpx.post(
                base + path,
                data=params,
                headers=_signature(settings, signed, path, params),
                timeout=20,
            )
            return resp.status_code, resp.text
        except httpx.TransportError as exc:
            if url is not None:
                console.print(f"[red]no service answers at {base}[/red]")
                raise typer.Exit(2) from exc
            console.print(f"[yellow]no service at {base}; running in-process[/yellow]")
    # In-process the app checks against its own public URL.
    headers = _signature(settings, settings.public_url, path, params)
    resp = in_process_client(settings).post(path, data=params, headers=headers)
    return resp.status_code, resp.text


def _signature(settings: Settings, base: str, path: str, params: dict[str, str]) -> dict[str, str]:
    validator = RequestValidator(settings.twilio_auth_token)
    return {"X-Twilio-Signature": validator.compute_signature(base.rstrip("/") + path, params)}


_CLIENTS: dict[str, Any] = {}


def in_process_client(settings: Settings) -> Any:
    """Builds the app here (migrating; loading the demo into an empty database)."""
    if settings.database_url not in _CLIENTS:
        import warnings

        with warnings.catch_warnings():
            # Starlette's TestClient is the in-process transport here, not a test.
            warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
            from fastapi.testclient import TestClient

        from campaigns.registry.models import Campaign
        from outreach.app import create_app

        logging.getLogger().setLevel(logging.WARNING)
        app = create_app(settings, start_background=False)
        with app.state.ctx.sessions() as session:
            empty = not session.scalar(select(func.count()).select_from(Campaign))
        if empty:
            _load_campaigns(settings, DEMO_FILE)
        _CLIENTS[settings.database_url] = TestClient(app)
    return _CLIENTS[settings.database_url]


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.command("text")(text)
    app.add_typer(demo_app, name="demo")
    app.add_typer(db_app, name="db")
