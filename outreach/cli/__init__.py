"""The `outreach` command line: one root app; each module here holds one group of commands."""

from __future__ import annotations

import typer

from outreach.cli.airings import airings_app
from outreach.cli.campaigns import campaigns_app
from outreach.cli.demo import demo_app
from outreach.cli.export import export_app
from outreach.cli.flows import call_cmd, flows_app
from outreach.cli.followups import followups_app, worker
from outreach.cli.kannel import kannel_app
from outreach.cli.output import quiet_alembic
from outreach.cli.reports import report, rollups_app
from outreach.cli.retention import retention_app
from outreach.cli.secrets import secrets_app
from outreach.cli.service import db_app, serve, text
from outreach.cli.users import users_app

app = typer.Typer(
    name="outreach",
    help="Outreach: SMS and voice lines for public-service campaigns.",
    no_args_is_help=True,
    add_completion=False,
    # A bug's traceback never prints local variables: they hold settings and their secrets.
    pretty_exceptions_show_locals=False,
)
app.command("serve")(serve)
app.command("text")(text)
app.command("call")(call_cmd)
app.command("worker")(worker)
app.command("report")(report)
for group, name in (
    (demo_app, "demo"),
    (db_app, "db"),
    (campaigns_app, "campaigns"),
    (flows_app, "flows"),
    (followups_app, "followups"),
    (airings_app, "airings"),
    (users_app, "users"),
    (rollups_app, "rollups"),
    (export_app, "export"),
    (retention_app, "retention"),
    (secrets_app, "secrets"),
    (kannel_app, "kannel"),
):
    app.add_typer(group, name=name)


def main() -> None:
    quiet_alembic()
    app()
