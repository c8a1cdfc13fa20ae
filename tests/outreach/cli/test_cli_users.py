"""`outreach users create`: a password from the environment without a terminal, clear refusals."""

from __future__ import annotations

from sqlalchemy import select

from outreach.core.context import AppContext
from outreach.web.auth.models import User
from tests.outreach.cli.test_cli_exit_codes import invoke, one_line_error


def _users(ctx: AppContext) -> list[tuple[str, str]]:
    with ctx.sessions() as session:
        return [(u.username, str(u.role)) for u in session.scalars(select(User))]


def test_users_create_reads_the_password_from_the_environment(loaded: AppContext) -> None:
    result = invoke(
        loaded,
        "users",
        "create",
        "amina",
        "--role",
        "manager",
        OUTREACH_NEW_USER_PASSWORD="a-long-password",
    )
    assert result.exit_code == 0, result.output
    assert "Password" not in result.output  # no prompt
    assert _users(loaded) == [("amina", "manager")]


def test_users_create_without_a_terminal_or_password_exits_2_and_names_the_variable(
    loaded: AppContext,
) -> None:
    result = invoke(loaded, "users", "create", "amina", OUTREACH_NEW_USER_PASSWORD=None)
    assert result.exit_code == 2
    assert "set OUTREACH_NEW_USER_PASSWORD" in one_line_error(result)
    assert _users(loaded) == []


def test_an_unknown_role_is_refused_with_the_valid_list_before_any_prompt(
    loaded: AppContext,
) -> None:
    result = invoke(loaded, "users", "create", "amina", "--role", "admin")
    assert result.exit_code == 2
    said = " ".join(result.output.split())
    assert "'admin'" in said and "'viewer'" in said and "'manager'" in said
    assert _users(loaded) == []


def test_a_short_password_and_an_unknown_user_exit_2(loaded: AppContext) -> None:
    short = invoke(loaded, "users", "create", "amina", OUTREACH_NEW_USER_PASSWORD="short")
    assert short.exit_code == 2 and "Traceback" not in short.output
    unknown = invoke(loaded, "users", "token", "nobody")
    assert unknown.exit_code == 2
    assert "no user 'nobody'" in one_line_error(unknown)
