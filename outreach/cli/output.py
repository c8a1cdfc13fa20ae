"""What commands print: tables that fit the terminal, plain tab-separated text when piped,
and progress bars on long work that only a terminal sees."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

# Piped output is not cut at 80 columns: a line is as long as its content.
console = Console(soft_wrap=True)
progress_console = Console(stderr=True)


def piped() -> bool:
    """Says whether standard output is not a terminal (a pipe or a file)."""
    return not console.is_terminal


def show_table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A table folded to the terminal's width, or tab-separated lines with a header when piped."""
    if piped():
        typer.echo("\t".join(columns))
        for row in rows:
            typer.echo("\t".join(str(cell) for cell in row))
        return
    table = Table(title=title)
    for name in columns:
        table.add_column(name, overflow="fold")
    for row in rows:
        table.add_row(*(str(cell) for cell in row))
    console.print(table, soft_wrap=False)


class Steps:
    """Advances a progress bar; `total` may be set once the work is known."""

    def __init__(self, progress: Progress | None, task: TaskID | None) -> None:
        self._progress, self._task = progress, task

    def __call__(self, done: int, total: int | None = None) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, completed=done, total=total)


@contextmanager
def progress(description: str, total: int | None = None) -> Iterator[Steps]:
    """A rich progress bar on standard error while the block runs; nothing when not a terminal."""
    if not progress_console.is_terminal:
        yield Steps(None, None)
        return
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=progress_console,
        transient=True,
    )
    with bar:
        yield Steps(bar, bar.add_task(description, total=total))


def quiet_alembic() -> None:
    """Alembic says "Context impl SQLiteImpl." at INFO on every schema check: not news."""
    logging.getLogger("alembic").setLevel(logging.WARNING)
