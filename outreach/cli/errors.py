"""The one exit-code rule of every `outreach` command, and the one way to stop with a message.

0 ok; 1 the work ran and found problems (a file with errors, rows skipped, a job failed);
2 bad input or usage (an unknown campaign, option value or file, reversed dates); 3 refused
to start (configuration, database schema). A user error prints one line, never a traceback.
"""

from __future__ import annotations

from enum import IntEnum
from typing import NoReturn

import typer
from rich.console import Console

from outreach.core.privacy import is_valid_number

err_console = Console(stderr=True)


class ExitCode(IntEnum):
    OK = 0
    PROBLEMS = 1
    USAGE = 2
    REFUSED = 3


def fail(message: str, code: ExitCode = ExitCode.USAGE) -> NoReturn:
    """Prints one line to standard error and exits with `code` (bad input unless told)."""
    err_console.print(message, style="red", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(int(code))


def warn(message: str) -> None:
    """Prints a warning line to standard error (it never mixes with piped output)."""
    err_console.print(message, style="yellow", markup=False, highlight=False, soft_wrap=True)


def check_numbers(**numbers: str) -> None:
    """Refuses (exit 2) an option that should hold a phone number and does not."""
    for name, value in numbers.items():
        if not is_valid_number(value):
            option = "--" + name.rstrip("_")
            fail(f"{option} {value!r} is not a phone number (E.164, like +994125550101)")
