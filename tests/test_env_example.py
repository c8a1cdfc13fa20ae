""".env.example lists every setting of Settings, each with a comment, and shows true defaults.

When you add a field to outreach/core/settings.py, add its line to .env.example: these tests
name what is missing or stale.
"""

from __future__ import annotations

import os
import re
from collections import Counter

import pytest

from outreach.core.settings import Settings, env_name
from tests.support.app import ROOT

ENV_EXAMPLE = ROOT / ".env.example"
LINE = re.compile(r"^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$")
# Read by compose.yaml only (interpolation), not by the service.
COMPOSE_ONLY = {"POSTGRES_PASSWORD", "HTTP_PORT", "CAMPAIGNS_DIR", "CAMPAIGNS_FILE"}


def entries() -> list[tuple[int, bool, str, str]]:
    """(line index, commented out, NAME, value) for every NAME=value line."""
    found = []
    for index, line in enumerate(ENV_EXAMPLE.read_text().splitlines()):
        match = LINE.match(line)
        if match:
            found.append((index, bool(match.group(1)), match.group(2), match.group(3)))
    return found


def setting_names() -> set[str]:
    return {env_name(field) for field in Settings.model_fields}


def test_every_setting_is_listed() -> None:
    listed = {name for _, _, name, _ in entries()}
    missing = sorted(setting_names() - listed)
    assert not missing, f"add to .env.example (with a one-line comment and the default): {missing}"


def test_nothing_unknown_is_listed_and_nothing_twice() -> None:
    names = [name for _, _, name, _ in entries()]
    assert [n for n, count in Counter(names).items() if count > 1] == []
    stale = sorted(set(names) - setting_names() - COMPOSE_ONLY)
    assert not stale, f"not a setting of outreach/core/settings.py: {stale}"


def test_every_entry_has_a_comment_line_above_it() -> None:
    lines = ENV_EXAMPLE.read_text().splitlines()
    for index, _, name, _ in entries():
        above = lines[index - 1] if index else ""
        assert above.startswith("#") and not LINE.match(above), f"{name} has no comment"
        assert len(above.lstrip("# ").split()) >= 2, f"{name}: say what it does"


def test_the_commented_defaults_are_the_real_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("OUTREACH_", "TWILIO_")):
            monkeypatch.delenv(name)
    shown = {name: value for _, commented, name, value in entries() if commented}
    for name, value in shown.items():
        if name in setting_names():
            monkeypatch.setenv(name, value)
    from_file = Settings()
    by_env = {env_name(field): field for field in Settings.model_fields}
    wrong = {
        name: (value, Settings.model_fields[by_env[name]].default)
        for name, value in shown.items()
        if name in by_env
        and getattr(from_file, by_env[name]) != Settings.model_fields[by_env[name]].default
    }
    assert not wrong, f"the value shown is not the default: {wrong}"
