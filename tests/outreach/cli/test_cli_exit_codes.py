"""The exit-code rule: 0 ok, 1 problems found, 2 bad input, 3 refused; one line, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from outreach.cli import app
from outreach.core.context import AppContext

NO_SECRETS = {
    "OUTREACH_HASH_KEY": None,
    "OUTREACH_ENCRYPTION_KEY": None,
    "OUTREACH_SESSION_SECRET": None,
    "TWILIO_AUTH_TOKEN": None,
    "OUTREACH_DEMO": None,
}


def invoke(ctx: AppContext, *args: str, **env: str | None) -> Result:
    """Runs a command on the test database with no secret in the environment."""
    full = {**NO_SECRETS, "OUTREACH_DATABASE_URL": ctx.settings.database_url, **env}
    return CliRunner().invoke(app, list(args), env=full)


def one_line_error(result: Result) -> str:
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    text = " ".join(result.output.split())
    assert len(result.output.strip().splitlines()) == 1, result.output
    return text


@pytest.mark.parametrize(
    "args",
    [
        ["report", "--campaign", "NOPE"],
        ["followups", "stats", "--campaign", "NOPE"],
        ["export", "csv", "summary", "--campaign", "NOPE"],
    ],
    ids=["report", "followups-stats", "export-csv"],
)
def test_an_unknown_campaign_exits_2_with_one_line(loaded: AppContext, args: list[str]) -> None:
    result = invoke(loaded, *args)
    assert result.exit_code == 2
    assert "'NOPE'" in one_line_error(result)


@pytest.mark.parametrize(
    "args",
    [["report"], ["export", "csv", "summary"], ["export", "floip", "radio"]],
    ids=["report", "export-csv", "export-floip"],
)
def test_reversed_dates_exit_2_with_one_line(loaded: AppContext, args: list[str]) -> None:
    result = invoke(loaded, *args, "--from", "2027-02-01", "--to", "2027-01-01")
    assert result.exit_code == 2
    assert "is before" in one_line_error(result)


@pytest.mark.parametrize(
    "args",
    [["export", "csv", "summary", "--out"], ["export", "floip", "radio", "--out"]],
    ids=["export-csv", "export-floip"],
)
def test_an_output_folder_that_does_not_exist_exits_2(
    loaded: AppContext, tmp_path: Path, args: list[str]
) -> None:
    target = tmp_path / "missing" / "out"
    result = invoke(loaded, *args, str(target))
    assert result.exit_code == 2
    assert "missing" in one_line_error(result)
    assert not target.parent.exists()


@pytest.mark.parametrize(
    ("option", "value", "valid"),
    [
        ("--medium", "blah", ["radio", "tv", "flyer", "newspaper"]),
        ("--channel", "fax", ["sms", "whatsapp", "voice"]),
        ("--language", "xx", ["az", "ru", "en"]),
    ],
)
def test_an_unknown_filter_value_is_refused_with_the_valid_list(
    loaded: AppContext, option: str, value: str, valid: list[str]
) -> None:
    result = invoke(loaded, "report", option, value)
    assert result.exit_code == 2
    said = " ".join(result.output.split())
    assert repr(value) in said and all(repr(v) in said for v in valid), said


@pytest.mark.parametrize("command", ["text", "call"])
def test_a_to_that_is_no_phone_number_exits_2(loaded: AppContext, command: str) -> None:
    args = [command, "--to", "abc", "--in-process"] + (["hello"] if command == "text" else [])
    result = invoke(loaded, *args)
    assert result.exit_code == 2
    assert "--to 'abc' is not a phone number" in one_line_error(result)


def test_demo_seed_with_a_bad_end_day_exits_2(tmp_path: Path) -> None:
    env = {**NO_SECRETS, "OUTREACH_DATABASE_URL": f"sqlite:///{tmp_path}/demo.db"}
    result = CliRunner().invoke(app, ["demo", "seed", "--end", "soon"], env=env)
    assert result.exit_code == 2
    assert "--end 'soon' is not a day" in one_line_error(result)


@pytest.mark.parametrize(
    "args",
    [
        ["report"],
        ["report", "--json"],
        ["campaigns", "list"],
        ["followups", "stats"],
        ["export", "csv", "channels"],
        ["db", "upgrade"],
    ],
    ids=lambda a: "-".join(a),
)
def test_read_only_commands_run_without_secrets(loaded: AppContext, args: list[str]) -> None:
    result = invoke(loaded, *args)
    assert result.exit_code == 0, result.output


def test_the_worker_without_secrets_refuses_to_start_with_exit_3(loaded: AppContext) -> None:
    result = invoke(loaded, "worker", "--once")
    assert result.exit_code == 3
    said = one_line_error(result)
    assert "missing secret(s)" in said and "OUTREACH_HASH_KEY" in said
