"""The Dockerfile, read as text (no daemon here): stages, user, healthcheck, no secrets.

The HEALTHCHECK command itself is run against a live `outreach serve`, as the container would.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

from tests.support.app import ROOT, make_settings
from tests.support.processes import OutreachProcess, answers, free_port, service_env, wait_until

DOCKERFILE = (ROOT / "Dockerfile").read_text()
DOCKERIGNORE = (ROOT / ".dockerignore").read_text().splitlines()


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE)
    pairs = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            pairs.append((word.upper(), rest.strip()))
    return pairs


def healthcheck_code() -> str:
    args = next(rest for word, rest in instructions() if word == "HEALTHCHECK")
    exec_form = json.loads(args.split(" CMD ", 1)[1])
    assert exec_form[:2] == ["python", "-c"]
    return str(exec_form[2])


def test_build_stage_makes_wheels_and_a_slim_python_311_runtime_installs_them() -> None:
    steps = instructions()
    stages = [rest for word, rest in steps if word == "FROM"]
    assert stages == ["python:3.11-slim-bookworm AS build", "python:3.11-slim-bookworm AS runtime"]
    assert any(w == "RUN" and "pip wheel" in r for w, r in steps)
    install = next(r for w, r in steps if w == "RUN" and "pip install" in r)
    assert "from=build" in install and "--no-index" in install


def test_every_package_of_the_wheel_is_copied_into_the_build() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = {p.rstrip("*") for p in project["tool"]["setuptools"]["packages"]["find"]["include"]}
    copied = {rest.split()[0] for word, rest in instructions() if word == "COPY"}
    assert packages <= copied


def test_the_service_runs_as_a_non_root_user_started_by_outreach_serve() -> None:
    steps = instructions()
    users = [rest for word, rest in steps if word == "USER"]
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    assert ("ENTRYPOINT", '["outreach"]') in steps
    assert ("CMD", '["serve"]') in steps
    env = " ".join(rest for word, rest in steps if word == "ENV")
    assert "OUTREACH_HOST=0.0.0.0" in env
    assert any(word == "VOLUME" and "/var/lib/outreach" in rest for word, rest in steps)


def test_no_secret_is_baked_into_the_image() -> None:
    settings_lines = [rest for word, rest in instructions() if word in {"ENV", "ARG"}]
    for line in settings_lines:
        assert not re.search(r"KEY|SECRET|TOKEN|PASSWORD", line), line
    for pattern in (".env", "*.secrets.json", "*.db", ".venv/"):
        assert pattern in DOCKERIGNORE, pattern


def test_the_healthcheck_passes_on_a_live_service_and_fails_when_it_is_down(
    tmp_path: Path,
) -> None:
    port = free_port()
    settings = make_settings(f"sqlite:///{tmp_path / 'outreach.db'}")
    env = service_env(settings, OUTREACH_PORT=str(port))
    service = OutreachProcess(["serve"], env, tmp_path / "serve.log", tmp_path).start()
    check = [sys.executable, "-c", healthcheck_code()]
    try:
        wait_until(lambda: answers(f"http://127.0.0.1:{port}/healthz"), "serve", [service.log])
        assert subprocess.run(check, env=env, capture_output=True).returncode == 0
    finally:
        service.stop()
    assert subprocess.run(check, env=env, capture_output=True).returncode != 0
