"""CLI: `outreach flows validate|show FILE` and the terminal phone `outreach call`."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from campaigns.flows.imports import import_file
from campaigns.flows.service import FlowRefused, UnknownVersion, publish
from ivr_flows.loader import FlowPathError, check_file
from ivr_flows.tree import flow_tree
from outreach.cli.context import cli_settings, open_context
from outreach.cli.errors import check_numbers, fail
from outreach.core.db import session_scope
from outreach.demo.client import NoService, find_demo
from outreach.demo.phone import Consultant
from outreach.demo.phone_run import run_phone

flows_app = typer.Typer(
    help="Voice flows: check and print flow files, import them as stored versions, publish.",
    no_args_is_help=True,
)


@flows_app.command("validate")
def validate_cmd(files: list[Path] = typer.Argument(..., help="Flow YAML file(s)")) -> None:
    """Checks flow files; prints every error with its location and exits 1 if any."""
    console = Console()
    failed = False
    for path in files:
        flow, issues = check_file(path)
        if issues:
            failed = True
            console.print(f"[red]✗ {path}[/red]: {len(issues)} error(s)")
            for issue in issues:
                console.print(f"  {path}: {issue}", markup=False, highlight=False, soft_wrap=True)
        else:
            assert flow is not None
            console.print(
                f"[green]✓ {path}[/green]: flow '{flow.id}', {len(flow.nodes)} nodes, "
                f"languages {', '.join(flow.languages)}"
            )
    raise typer.Exit(1 if failed else 0)


@flows_app.command("show")
def show_cmd(file: Path = typer.Argument(..., help="Flow YAML file")) -> None:
    """Prints the flow's menu tree (and its errors, if any)."""
    console = Console()
    flow, issues = check_file(file)
    for issue in issues:
        console.print(f"[red]{file}: {issue}[/red]", highlight=False, soft_wrap=True)
    if flow is None:
        raise typer.Exit(1)
    console.print(flow_tree(flow))
    raise typer.Exit(1 if issues else 0)


@flows_app.command("import")
def import_cmd(files: list[Path] = typer.Argument(..., help="Flow YAML file(s)")) -> None:
    """Saves flow files as stored versions (published if the flow had none) and attaches the
    campaigns and hotlines that name them; exits 1 if any file is refused."""
    console = Console()
    ctx = open_context()
    failed = False
    for path in files:
        try:
            with session_scope(ctx.sessions) as session:
                done = import_file(session, path, user="cli", settings=ctx.settings)
        except (FlowRefused, FlowPathError) as exc:
            failed = True
            console.print(f"[red]✗ {path}[/red]: {exc}", highlight=False, soft_wrap=True)
            continue
        what = "saved as version" if done.created else "unchanged, newest version"
        attached = f"; attached {', '.join(done.attached)}" if done.attached else ""
        console.print(
            f"[green]✓ {path}[/green]: flow '{done.key}' {what} {done.version}{attached}",
            soft_wrap=True,
        )
    raise typer.Exit(1 if failed else 0)


@flows_app.command("publish")
def publish_cmd(
    key: str = typer.Argument(..., help="The flow's id"),
    number: int = typer.Argument(..., help="The version to make live"),
) -> None:
    """Makes a stored version the live one (new calls get it; calls in progress keep theirs)."""
    ctx = open_context()
    try:
        with session_scope(ctx.sessions) as session:
            publish(session, key=key, number=number)
    except UnknownVersion as exc:
        Console().print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    Console().print(f"flow '{key}': version {number} is live")


def call_cmd(
    to: str = typer.Option(..., "--to", help="The number dialed (a campaign or hotline number)"),
    from_: str = typer.Option("+994501234567", "--from", help="The caller's number"),
    keys: str | None = typer.Option(
        None, "--keys", help="Key presses, comma-separated; empty = no input"
    ),
    url: str | None = typer.Option(
        None, "--url", help="A running service, e.g. http://127.0.0.1:8000"
    ),
    in_process: bool = typer.Option(False, "--in-process", help="Run the app inside this process"),
    consultant: Consultant = typer.Option(
        Consultant.ANSWERS, "--consultant", help="What the consultant line does when dialed"
    ),
    at: str | None = typer.Option(
        None, "--at", help="Pretend the call is at this local time, e.g. '2027-02-01 10:00'"
    ),
) -> None:
    """Calls a number like a phone: prints what is said, sends your keys, follows the TwiML."""
    check_numbers(to=to, from_=from_)
    try:
        code = run_phone(
            find_demo(cli_settings(), url),
            to=to,
            caller=from_,
            keys=keys,
            url=url,
            in_process=in_process,
            consultant=consultant,
            at=at,
        )
    except NoService as exc:
        fail(str(exc))
    raise typer.Exit(code)
