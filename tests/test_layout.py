"""The layout's own rules that import-linter cannot state: imports inside functions are rare."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support.app import ROOT

PACKAGES = ("outreach", "campaigns", "webhooks", "ivr_flows")
MAX_IN_FUNCTION_IMPORTS = 10


def in_function_imports(root: Path) -> list[tuple[str, int, str]]:
    """(file, line, the comment line above) of every import inside a function."""
    found: list[tuple[str, int, str]] = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            source = path.read_text(encoding="utf-8")
            lines = source.splitlines()
            for node in ast.walk(ast.parse(source)):
                if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                for inner in ast.walk(node):
                    if isinstance(inner, ast.Import | ast.ImportFrom):
                        above = lines[inner.lineno - 2].strip() if inner.lineno > 1 else ""
                        found.append((str(path.relative_to(root)), inner.lineno, above))
    return found


def test_in_function_imports_are_at_most_ten_and_each_says_why() -> None:
    found = in_function_imports(ROOT)
    assert len(found) <= MAX_IN_FUNCTION_IMPORTS, found
    unexplained = [(f, n) for f, n, above in found if not above.startswith("#")]
    assert not unexplained, f"imports inside functions need a comment saying why: {unexplained}"


def test_the_counter_sees_an_import_inside_a_function(tmp_path: Path) -> None:
    package = tmp_path / "campaigns"
    package.mkdir()
    (package / "mod.py").write_text("import os\n\n\ndef f():\n    import json\n    return json\n")
    assert in_function_imports(tmp_path) == [("campaigns/mod.py", 5, "def f():")]
