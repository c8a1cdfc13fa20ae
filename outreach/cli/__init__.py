"""The `outreach` command line: the root app; each domain registers its own commands."""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="outreach",
    help="Outreach: SMS and voice lines for public-service campaigns.",
    no_args_is_help=True,
    add_completion=False,
)

# Modules exposing `register(app: typer.Typer) -> None`; each adds its commands or sub-apps.
_REGISTRARS: tuple[str, ...] = (
    "outreach.cli.service",
    "outreach.cli.campaigns",
    "outreach.cli.flows",
    "outreach.cli.followups",
    "outreach.cli.reports",
    "outreach.cli.retention",
)


def _register_all() -> None:
    for name in _REGISTRARS:
        importlib.import_module(name).register(app)


_register_all()


def main() -> None:
    app()
