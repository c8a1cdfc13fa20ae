"""One transaction helper for every webhook: the request owns its transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.registry.models import RegistrySetting
from outreach.core.context import AppContext
from tests.support.app import ROOT
from webhooks.transaction import Budget, in_transaction


def _sources(package: str) -> dict[str, str]:
    return {
        str(path.relative_to(ROOT)): path.read_text() for path in (ROOT / package).rglob("*.py")
    }


def test_webhooks_open_commit_and_roll_back_only_through_the_helper() -> None:
    for name, source in _sources("webhooks").items():
        if name == "webhooks/transaction.py":
            continue
        for call in (".sessions(", ".commit(", ".rollback(", "session_scope("):
            assert call not in source, f"{name} handles its own transaction ({call})"


def test_domain_code_never_commits_or_rolls_back_its_callers_transaction() -> None:
    for name, source in _sources("campaigns").items():
        if name.endswith("/tasks.py"):
            continue  # a job owns its transaction
        for call in (".commit(", ".rollback("):
            assert call not in source, f"{name} ends its caller's transaction ({call})"


def _marker(ctx: AppContext) -> object:
    with ctx.sessions() as session:
        return session.scalar(select(RegistrySetting.value).where(RegistrySetting.key == "m"))


def _write(session: Session) -> str:
    session.add(RegistrySetting(key="m", value={"n": 1}))
    return "done"


def test_the_helper_commits_what_the_work_did(ctx: AppContext) -> None:
    assert in_transaction(ctx, _write, failed=lambda _e: "failed") == "done"
    assert _marker(ctx) == {"n": 1}


def test_a_failure_is_rolled_back_tried_once_more_then_answered_politely(
    ctx: AppContext,
) -> None:
    attempts: list[int] = []

    def broken(session: Session) -> str:
        attempts.append(1)
        _write(session)
        raise RuntimeError("boom")

    seen: list[Exception] = []

    def failed(exc: Exception) -> str:
        seen.append(exc)
        return "sorry"

    assert in_transaction(ctx, broken, failed=failed) == "sorry"
    assert len(attempts) == 2 and isinstance(seen[0], RuntimeError)
    assert _marker(ctx) is None


def test_a_failure_is_not_tried_again_without_time_left(
    ctx: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    budget = Budget(ctx)
    monkeypatch.setattr(budget, "deadline", 0.0)  # Twilio's timeout is as good as spent
    attempts: list[int] = []

    def broken(_session: Session) -> str:
        attempts.append(1)
        raise RuntimeError("boom")

    assert in_transaction(ctx, broken, failed=lambda _e: "sorry", budget=budget) == "sorry"
    assert attempts == [1]
