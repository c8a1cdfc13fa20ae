"""`outreach.demo.json`: where a running `outreach demo` serves, for `outreach text` and `call`.

`outreach demo` writes it beside the demo database while it serves and removes it on exit;
a file left by a demo whose process is gone is ignored.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from outreach.core.settings import Settings

STATE_FILE_NAME = "outreach.demo.json"


@dataclass(frozen=True)
class DemoState:
    url: str
    pid: int
    twilio_url: str = ""


def state_path(settings: Settings) -> Path:
    """The state file: beside the database (and its secrets file)."""
    return settings.secrets_path().parent / STATE_FILE_NAME


def write_state(settings: Settings, state: DemoState) -> Path:
    path = state_path(settings)
    path.write_text(json.dumps(asdict(state)), encoding="utf-8")
    return path


def read_state(settings: Settings) -> DemoState | None:
    """The running demo's state, or None (no file, a broken one, or its process is gone)."""
    try:
        raw = json.loads(state_path(settings).read_text(encoding="utf-8"))
        state = DemoState(url=str(raw["url"]), pid=int(raw["pid"]), twilio_url=raw["twilio_url"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return state if _alive(state.pid) else None


def clear_state(settings: Settings) -> None:
    """Removes the state file if it is this process's."""
    current = read_state(settings)
    if current is not None and current.pid == os.getpid():
        state_path(settings).unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
