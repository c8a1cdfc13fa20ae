"""The Alembic history has one head and is linear from 0005_outbox_index on."""

from __future__ import annotations

from pathlib import Path

from alembic.script import ScriptDirectory

from outreach.core.db import MIGRATIONS_DIR

# The history branched three ways before this revision and was merged in it; linear after it.
LINEAR_FROM = "0005_outbox_index"


def history_problems(script: ScriptDirectory, linear_from: str = LINEAR_FROM) -> list[str]:
    """Returns what breaks 'one head, one parent each after linear_from' (empty if nothing)."""
    problems = []
    heads = script.get_heads()
    if len(heads) != 1:
        problems.append(f"{len(heads)} heads: {', '.join(sorted(heads))}")
    before = {r.revision for r in script.iterate_revisions(linear_from, "base")} - {linear_from}
    chain = {linear_from} | {r.revision for r in script.walk_revisions()} - before
    for rev in script.walk_revisions():
        if rev.revision in before:
            continue
        if rev.revision != linear_from and not (
            isinstance(rev.down_revision, str) and rev.down_revision in chain
        ):
            problems.append(f"{rev.revision} has down_revision {rev.down_revision!r}")
        if len(rev.nextrev) > 1:
            problems.append(f"{rev.revision} branches into {', '.join(sorted(rev.nextrev))}")
    return problems


def test_the_migrations_have_one_head_and_a_linear_history() -> None:
    script = ScriptDirectory(str(MIGRATIONS_DIR))
    assert history_problems(script) == []
    assert len(script.get_heads()) == 1


def _write(versions: Path, revision: str, down: str | tuple[str, ...] | None) -> None:
    versions.joinpath(f"{revision}.py").write_text(
        f"revision = {revision!r}\ndown_revision = {down!r}\n"
        "def upgrade() -> None: ...\ndef downgrade() -> None: ...\n"
    )


def test_the_check_finds_a_second_head_and_a_merge(tmp_path: Path) -> None:
    versions = tmp_path / "versions"
    versions.mkdir()
    _write(versions, "r1", None)
    _write(versions, "r2", "r1")
    _write(versions, "r3", ("r1", "r2"))  # a merge before the linear part: allowed
    _write(versions, "r4", "r3")
    assert history_problems(ScriptDirectory(str(tmp_path)), "r3") == []
    _write(versions, "r5a", "r4")
    _write(versions, "r5b", "r4")
    assert history_problems(ScriptDirectory(str(tmp_path)), "r3") == [
        "2 heads: r5a, r5b",
        "r4 branches into r5a, r5b",
    ]
    _write(versions, "r6", ("r5a", "r5b"))
    assert history_problems(ScriptDirectory(str(tmp_path)), "r3") == [
        "r6 has down_revision ('r5a', 'r5b')",
        "r4 branches into r5a, r5b",
    ]
    _write(versions, "r7", "r2")  # a new branch off the old history
    problems = history_problems(ScriptDirectory(str(tmp_path)), "r3")
    assert "2 heads: r6, r7" in problems and "r7 has down_revision 'r2'" in problems
