"""The README's newcomer walkthrough, command by command, as real processes in a fresh folder.

The commands are read from the README's Quickstart (so the README cannot drift from what is
tested): `outreach demo --fake-twilio`, then text, call, followups stats, demo seed, report
and users create, and the dashboard. Every step must show non-empty numbers. Two changes,
both for a bounded run: the demo serves on a free port, and the seed plays 2 days, not 30.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.support.app import ROOT
from tests.support.ports import free_port
from tests.support.reports import csrf_of

OUTREACH = str(Path(sys.executable).with_name("outreach"))
STEP_TIMEOUT = 300  # a bound for one command on a loaded 2-core machine, not an assertion
DEADLINE_SECONDS = 90  # bound for polling, not an assertion


def readme_commands() -> list[list[str]]:
    """The `outreach …` command lines of the README's Quickstart, in order."""
    section = (ROOT / "README.md").read_text(encoding="utf-8").split("## Quickstart", 1)[1]
    section = section.split("\n## ", 1)[0]
    commands = []
    for line in section.splitlines():
        words = shlex.split(line, comments=True)
        if ".venv/bin/outreach" in words:
            commands.append(words)
    return commands


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OUTREACH_", "TWILIO_"))}
    # An empty quiet-hours window, so the follow-up goes out whatever the hour in Baku.
    env.update(OUTREACH_QUIET_HOURS_START="08:00", OUTREACH_QUIET_HOURS_END="08:00")
    env["COLUMNS"] = "100"
    return env


def _run(words: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    assignments = dict(w.split("=", 1) for w in words if "=" in w and not w.startswith("-"))
    args = words[words.index(".venv/bin/outreach") + 1 :]
    done = subprocess.run(
        [OUTREACH, *args],
        cwd=cwd,
        env={**env, **assignments},
        capture_output=True,
        text=True,
        timeout=STEP_TIMEOUT,
        stdin=subprocess.DEVNULL,
    )
    both = done.stdout + done.stderr
    assert "Traceback" not in both, both
    assert "alembic.runtime" not in both, both  # no Alembic INFO lines on every command
    assert done.returncode == 0, f"{args}: exit {done.returncode}\n{both}"
    return done


def _number(pattern: str, text: str) -> int:
    match = re.search(pattern, text)
    assert match, f"{pattern!r} not in:\n{text}"
    return int(match.group(1).replace(",", ""))


def _poll(check: Callable[[], bool], what: str, log: Path) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise AssertionError(f"{what} never happened; demo log:\n{log.read_text()[-3000:]}")


def _followups(cwd: Path, env: dict[str, str], command: list[str]) -> dict[str, int]:
    lines = _run(command, cwd, env).stdout.splitlines()
    header = lines.index(next(line for line in lines if line.startswith("campaign\t")))
    names = lines[header].split("\t")
    row = lines[header + 1].split("\t")
    return {name: int(value) for name, value in zip(names[1:], row[1:], strict=True)}


def test_the_readme_walkthrough_shows_numbers_at_every_step(tmp_path: Path) -> None:
    commands = readme_commands()
    steps = [next(w for w in c[c.index(".venv/bin/outreach") + 1 :]) for c in commands]
    assert steps == ["demo", "text", "call", "followups", "demo", "report", "users"], commands
    demo, text, call, followups, seed, report, users = commands
    assert "--fake-twilio" in demo
    env = _env(tmp_path)
    port = free_port()
    log = tmp_path / "demo.log"
    args = [*demo[demo.index(".venv/bin/outreach") + 1 :], "--port", str(port)]
    with log.open("w") as out:
        service = subprocess.Popen(
            [OUTREACH, *args], cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        base = f"http://127.0.0.1:{port}"
        state = tmp_path / "outreach.demo.json"
        _poll(lambda: state.exists() and _up(base), "the demo answering", log)
        assert json.loads(state.read_text())["url"] == base
        printed = log.read_text()
        assert _number(r"(\d+) created", printed) == 7  # six campaigns and the hotline
        assert "AZ-RADIO-IDMAN-2027" in printed

        said = _run(text, tmp_path, env).stdout
        assert f"using the demo at {base}" in said and "Xaricdə iş?" in said

        called = _run(call, tmp_path, env).stdout
        assert "sms_optin → goodbye" in called and "outcome completed" in called

        _poll(
            lambda: _followups(tmp_path, env, followups).get("delivered", 0) >= 1,
            "a follow-up delivered through the Twilio stand-in",
            log,
        )
        counts = _followups(tmp_path, env, followups)
        assert counts["opt_ins"] >= 1 and counts["scheduled"] >= 1 and counts["sent"] >= 1
        assert "📨 Twilio stand-in: SMS to a number ending 67" in log.read_text()

        days = seed.index("--days") + 1
        seeded = _run([*seed[:days], "2", *seed[days + 1 :]], tmp_path, env).stdout
        assert _number(r"seeded (\d+) calls", seeded) > 0
        assert _number(r"calls, (\d+) texts", seeded) > 0

        reach = _run(report, tmp_path, env).stdout
        assert _number(r"interactions\W+([\d,]+)", reach) > 0
        assert _number(r"unique contacts\W+([\d,]+)", reach) > 0

        _run(users, tmp_path, env)
        password = next(w for w in users if w.startswith("OUTREACH_NEW_USER_PASSWORD="))
        dashboard = _dashboard(base, "manager", password.split("=", 1)[1])
        assert _number(r'data-testid="interactions">([\d,]+)<', dashboard) > 0
        assert _number(r'data-testid="unique">([\d,]+)<', dashboard) > 0
    finally:
        service.terminate()
        service.wait(timeout=30)
    assert not (tmp_path / "outreach.demo.json").exists()  # the demo removed its state file


def _up(base: str) -> bool:
    try:
        return httpx.get(base + "/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _dashboard(base: str, username: str, password: str) -> str:
    with httpx.Client(base_url=base, timeout=30) as client:
        form = {
            "username": username,
            "password": password,
            "csrf_token": csrf_of(client.get("/login").text),
            "next": "/dashboard",
        }
        assert client.post("/login", data=form).status_code in (200, 303)
        page = client.get("/dashboard")
        assert page.status_code == 200, page.text[:500]
        return page.text
