"""Piped output is plain and whole; progress bars show on a terminal only."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from outreach.cli import output
from outreach.core.context import AppContext
from tests.outreach.cli.test_cli_exit_codes import invoke


def test_piped_tables_are_tab_separated_whole_lines_without_colour(loaded: AppContext) -> None:
    result = invoke(loaded, "campaigns", "list")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split("\t") == ["code", "medium", "region", "dates", "numbers", "keywords"]
    rows = [line.split("\t") for line in lines[1:]]
    assert len(rows) == 6 and all(len(row) == 6 for row in rows)
    assert "AZ-RADIO-IDMAN-2027" in [row[0] for row in rows]  # never cut at 80 columns
    assert "\x1b[" not in result.output and "…" not in result.output


def test_a_piped_report_is_not_cut_at_80_columns(loaded: AppContext) -> None:
    result = invoke(loaded, "report", "--from", "2027-01-01", "--to", "2027-03-31")
    assert result.exit_code == 0, result.output
    # At 80 columns the channel table's headings wrapped and its numbers were cut.
    assert "interactions per contact" in result.output and "cost per contact" in result.output
    assert "…" not in result.output and "\x1b[" not in result.output


def test_progress_draws_a_bar_on_a_terminal_and_nothing_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for terminal in (True, False):
        sink = io.StringIO()
        console = Console(file=sink, force_terminal=terminal, width=100)
        monkeypatch.setattr(output, "progress_console", console)
        with output.progress("seeding demo traffic", total=10) as steps:
            steps(5, 10)
            console.file.flush()
        drawn = sink.getvalue()
        assert ("seeding demo traffic" in drawn) is terminal, (terminal, drawn)
