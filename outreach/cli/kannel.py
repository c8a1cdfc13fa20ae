"""`outreach kannel config`: a working kannel.conf for the Kannel numbers of the campaigns."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Annotated

import typer

from campaigns.registry.channels import numbers_of
from campaigns.registry.enums import Gateway
from outreach.cli.context import cli_settings, console, open_context
from outreach.core.channels import kannel_base
from outreach.core.db import session_scope
from outreach.core.kannel import DLR_MASK
from outreach.core.settings import Settings

kannel_app = typer.Typer(help="Kannel, the SMS gateway to local operators.", no_args_is_help=True)
URL_SAFE = re.compile(r"[A-Za-z0-9_.~-]{16,}")
MAX_PARTS = 10  # a long reply or follow-up goes out as up to this many concatenated parts


@dataclass(frozen=True)
class Ports:
    admin: int = 13000
    smsbox: int = 13001
    sendsms: int = 13013


def render_config(
    settings: Settings,
    numbers: list[str],
    *,
    ports: Ports,
    log_dir: str,
    admin_password: str,
    fake_smsc_port: int | None = None,
    store_dir: str | None = None,
) -> str:
    """The text of kannel.conf: core, smsc, smsbox, sendsms-user and sms-service groups."""
    mo_url = f"{kannel_base(settings)}/mo?from=%p&to=%P&text=%a&id=%I&charset=%C&coding=%c"
    store = (
        f'store-type = spool\nstore-location = "{store_dir}"\n'
        if store_dir
        else "# store-type = spool  (with store-location: keeps the queue over restarts)\n"
    )
    listed = ", ".join(numbers) if numbers else "none yet (list them under channels: kannel)"
    return f"""# kannel.conf written by `outreach kannel config` for the Kannel numbers: {listed}
# bearerbox holds the operator's SMPP connection; smsbox calls Outreach for each MO text and
# takes follow-ups on /cgi-bin/sendsms. Run: bearerbox kannel.conf, then smsbox kannel.conf.

group = core
admin-port = {ports.admin}
admin-interface = 127.0.0.1
admin-password = "{admin_password}"
smsbox-port = {ports.smsbox}
box-allow-ip = 127.0.0.1
log-file = "{log_dir}/bearerbox.log"
# 2: warnings and errors only (Kannel's debug and info lines show numbers and texts)
log-level = 2
dlr-storage = internal
{store}
{_smsc_group(fake_smsc_port, numbers)}
group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = {ports.smsbox}
sendsms-port = {ports.sendsms}
log-file = "{log_dir}/smsbox.log"
log-level = 2
# UCS-2 texts from phones reach Outreach as UTF-8 where they can
mo-recode = true
# an MO whose call failed is retried; Outreach counts a retried message id once
http-request-retry = 3
http-queue-delay = 10
# no global-sender: %P must stay the number the person texted

group = sendsms-user
username = "{settings.kannel_username}"
password = "{settings.kannel_password}"
concatenation = true
max-messages = {MAX_PARTS}

group = sms-service
keyword = default
catch-all = true
get-url = "{mo_url}"
# the reply is the HTTP body; X-Kannel-Coding: 2 sends it as UCS-2 (Azerbaijani, Cyrillic)
accept-x-kannel-headers = true
concatenation = true
max-messages = {MAX_PARTS}
omit-empty = true
"""


def _smsc_group(fake_smsc_port: int | None, numbers: list[str]) -> str:
    if fake_smsc_port is not None:
        return f"""# a fake operator for tests: /usr/lib/kannel/test/fakesmsc -r {fake_smsc_port}
group = smsc
smsc = fake
smsc-id = fake
port = {fake_smsc_port}
connect-allow-ip = 127.0.0.1
"""
    own = numbers[0] if len(numbers) == 1 else ""
    return f"""# The operator's SMPP account: fill in what Azercell, Bakcell or Nar gave you.
group = smsc
smsc = smpp
smsc-id = operator
host = "smpp.operator.example"
port = 2775
transceiver-mode = true
smsc-username = "SYSTEM_ID"
smsc-password = "PASSWORD"
system-type = ""
{f"my-number = {own}" if own else "# my-number = your short code"}
# international numbers in and out (+994...); ask the operator if they want others
source-addr-ton = 1
source-addr-npi = 1
dest-addr-ton = 1
dest-addr-npi = 1
enquire-link-interval = 30
reconnect-delay = 10
# delivery reports: {DLR_MASK} = delivered + failed + rejected
"""


@kannel_app.command("config")
def config_command(
    fake_smsc_port: Annotated[
        int | None, typer.Option(help="A fake SMSC on this port instead of SMPP (for fakesmsc).")
    ] = None,
    admin_port: Annotated[int, typer.Option(help="bearerbox admin port.")] = Ports.admin,
    smsbox_port: Annotated[int, typer.Option(help="bearerbox port for smsbox.")] = Ports.smsbox,
    sendsms_port: Annotated[
        int, typer.Option(help="smsbox sendsms port (OUTREACH_KANNEL_SENDSMS_URL).")
    ] = Ports.sendsms,
    log_dir: Annotated[str, typer.Option(help="Folder of Kannel's logs.")] = "/var/log/kannel",
    store_dir: Annotated[
        str | None, typer.Option(help="Spool folder for the queue (survives restarts).")
    ] = None,
) -> None:
    """Print a kannel.conf for the campaigns' Kannel numbers (OUTREACH_KANNEL_* settings)."""
    settings = cli_settings()
    problems = []
    if not URL_SAFE.fullmatch(settings.kannel_secret):
        problems.append("OUTREACH_KANNEL_SECRET must be 16+ characters of A-Z a-z 0-9 _ . ~ -")
    if not settings.kannel_password or '"' in settings.kannel_password:
        problems.append("OUTREACH_KANNEL_PASSWORD must be set (and hold no double quote)")
    if problems:
        for problem in problems:
            console.print(f"[red]configuration error:[/red] {problem}")
        raise typer.Exit(2)
    ctx = open_context(settings)
    with session_scope(ctx.sessions) as session:
        numbers = numbers_of(session, Gateway.KANNEL)
    ports = Ports(admin=admin_port, smsbox=smsbox_port, sendsms=sendsms_port)
    text = render_config(
        settings,
        numbers,
        ports=ports,
        log_dir=log_dir.rstrip("/") or "/",
        admin_password=secrets.token_hex(16),
        fake_smsc_port=fake_smsc_port,
        store_dir=store_dir,
    )
    typer.echo(text, nl=False)
