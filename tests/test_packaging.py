"""Packaging hygiene: the SPDX licence, the `postgres` extra, pinned constraints, ignored files."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from outreach.core.db import SchemaError, make_engine
from tests.support.app import ROOT

PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s;]+)$")


def names(requirements: list[str]) -> set[str]:
    return {canonicalize_name(Requirement(r).name) for r in requirements}


def pinned() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            match = PIN.match(line.strip())
            assert match, f"constraints.txt: not a pin: {line!r}"
            pins[canonicalize_name(match.group(1))] = match.group(2)
    return pins


def test_the_licence_is_an_spdx_string_with_authors_and_classifiers() -> None:
    assert PROJECT["license"] == "Apache-2.0"
    assert PROJECT["authors"] and all(a.get("name") for a in PROJECT["authors"])
    classifiers = PROJECT["classifiers"]
    assert "Programming Language :: Python :: 3.11" in classifiers
    # With an SPDX `license`, licence classifiers are refused by the build backend.
    assert not [c for c in classifiers if c.startswith("License ::")]


def test_psycopg_is_in_the_postgres_extra_that_the_tests_install() -> None:
    extras = PROJECT["optional-dependencies"]
    assert "psycopg" not in names(PROJECT["dependencies"])
    assert "psycopg" in names(extras["postgres"])
    assert "outreach[postgres]" in extras["test"]
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip wheel --wheel-dir /wheels -c constraints.txt '.[postgres]'" in dockerfile
    assert "'outreach[postgres]'" in dockerfile


def test_every_dependency_of_ci_is_pinned_in_constraints() -> None:
    pins = pinned()
    extras = PROJECT["optional-dependencies"]
    wanted = names(PROJECT["dependencies"]) | names(extras["test"]) | names(extras["postgres"])
    missing = sorted(wanted - {"outreach"} - set(pins))
    assert not missing, f"regenerate constraints.txt (see its header): {missing}"
    assert "outreach" not in pins  # the project itself is never pinned
    assert (
        "pip install -q -c constraints.txt -e '.[test]'"
        in (ROOT / "scripts" / "test.sh").read_text()
    )


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_sqlite_wal_and_shared_memory_files_are_ignored() -> None:
    paths = ["outreach.db", "outreach.db-wal", "outreach.db-shm", "data/x.sqlite3-wal"]
    result = subprocess.run(
        ["git", "check-ignore", "--no-index", *paths],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.stdout.split() == paths


def test_a_postgresql_url_without_the_driver_says_which_extra_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if the extra were not installed
    with pytest.raises(SchemaError, match=r"pip install 'outreach\[postgres\]'"):
        make_engine("postgresql+psycopg://outreach@db.invalid:5432/outreach")
