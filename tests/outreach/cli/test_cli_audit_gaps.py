# ruff: noqa: F811 (the `web` fixture imported from tests.support.reports)
"""The airing import (CLI and API) and `users logout` are in the audit log."""

from __future__ import annotations

import getpass
import json
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from campaigns.audit.models import AuditEntry
from outreach.core.context import AppContext
from outreach.web.auth.models import Role
from tests.outreach.cli.test_cli_exit_codes import invoke
from tests.support.reports import login, make_user, web  # noqa: F401

CSV = "campaign,station,aired_at,duration_seconds\nAZ-RADIO-IDMAN-2027,Idman FM,{at},30\n"


def audit(ctx: AppContext, kind: str) -> list[tuple[str, str, str, str, str]]:
    with ctx.sessions() as session:
        rows = session.scalars(
            select(AuditEntry).where(AuditEntry.target_kind == kind).order_by(AuditEntry.id)
        )
        return [
            (e.actor, e.interface, e.action, e.target, json.dumps([e.before, e.after]))
            for e in rows
        ]


def test_the_cli_airing_import_is_audited(loaded: AppContext, tmp_path: Path) -> None:
    file = tmp_path / "airings.csv"
    file.write_text(CSV.format(at="2027-03-01 08:15"), encoding="utf-8")
    assert invoke(loaded, "airings", "import", str(file)).exit_code == 0
    [(actor, interface, action, target, values)] = audit(loaded, "airing")
    assert (interface, action, target) == ("cli", "create", "AZ-RADIO-IDMAN-2027")
    assert actor.startswith(getpass.getuser()) and "Idman FM" in values
    assert "+994" not in values  # no phone number


def test_the_api_airing_import_is_audited(loaded: AppContext, client: TestClient) -> None:
    headers = {"Authorization": f"Bearer {make_user(loaded, 'boss', Role.MANAGER)}"}
    imported = client.post(
        "/api/airings/import",
        content=CSV.format(at="2027-03-01T08:15:00+04:00"),
        headers={**headers, "Content-Type": "text/csv"},
    )
    assert imported.status_code == 200 and imported.json()["added"] == 1, imported.text
    [(actor, interface, action, target, _)] = audit(loaded, "airing")
    assert (actor, interface, action, target) == ("boss", "api", "create", "AZ-RADIO-IDMAN-2027")


def test_users_logout_is_audited(loaded: AppContext, web: TestClient) -> None:
    make_user(loaded, "maria", Role.MANAGER)
    assert login(web, "maria").status_code == 303
    result = invoke(loaded, "users", "logout", "maria")
    assert result.exit_code == 0 and "ended 1 session(s)" in result.output, result.output
    logout = [e for e in audit(loaded, "user") if e[2] == "logout"]
    assert [(e[1], e[3]) for e in logout] == [("cli", "maria")]
    assert web.get("/dashboard", follow_redirects=False).status_code in (302, 303, 401)
