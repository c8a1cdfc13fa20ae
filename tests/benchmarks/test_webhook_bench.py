"""The webhook benchmark runs end to end: both servers answer every request, none in error."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.app import POSTGRES_URL, ROOT

SCRIPT = ROOT / "benchmarks" / "webhook_bench.py"
BACKENDS = ["sqlite"] + (["postgres"] if POSTGRES_URL else [])
DRIVER = "wrk" if shutil.which("wrk") else "python"


def run_bench(tmp_path: Path, *args: str) -> dict[str, Any]:
    """Runs the harness in its shortest mode (a warm-up second, one round) and reads its JSON."""
    out = tmp_path / "bench.json"
    argv = [sys.executable, str(SCRIPT), "--rounds", "1", "--warmup", "1", "--connections", "2"]
    argv += ["--json", str(out), *args]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    data: dict[str, Any] = json.loads(out.read_text())
    return data


def assert_all_answered(
    data: dict[str, Any],
    scenarios: tuple[str, ...],
    targets: tuple[str, ...] = ("floor", "outreach"),
) -> None:
    summary = data["summary"]
    assert set(summary) == set(scenarios), summary
    for scenario in scenarios:
        assert set(summary[scenario]) == set(targets), summary[scenario]
        for target in targets:
            row = summary[scenario][target]
            assert row["rps"] > 0, (scenario, target, row)
            assert row["errors"] == 0, (scenario, target, row, data["rounds"])
            assert row["wrapped"] == 0, (scenario, target, row)
            assert row["peak_rss_mb"] > 0, (scenario, target, row)
            assert row["cpu_ms_per_request"] > 0, (scenario, target, row)


@pytest.mark.parametrize("backend", BACKENDS)
def test_closed_loop_sms_and_voice_answer_every_request_on_both_servers(
    tmp_path: Path, backend: str
) -> None:
    args = ["--driver", DRIVER, "--db", backend, "--duration", "2"]
    if backend == "postgres":
        args += ["--postgres-url", POSTGRES_URL]
    data = run_bench(tmp_path, *args)
    assert data["driver"].startswith("wrk" if DRIVER == "wrk" else "Python closed loop")
    assert_all_answered(data, ("sms", "voice"))


def test_the_floor_with_outreachs_features_answers_every_request(tmp_path: Path) -> None:
    data = run_bench(tmp_path, "--driver", DRIVER, "--duration", "2", "--features", "--keep")
    assert_all_answered(data, ("sms", "voice"), ("floor", "floor+features", "outreach"))
    # It carries the features: one scrubbed event per SMS and per call, and the access log.
    work = Path(data["work"])
    try:
        logged = (work / "floor+features.log").read_text()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    assert "sms handled" in logged and "voice handled" in logged, logged[-2000:]
    assert '"POST /twilio/voice/step?seq=' in logged, logged[-2000:]
    assert "+994" not in logged, "a caller's number was logged"


def test_constant_rate_mode_offers_the_rate_and_answers_every_request(tmp_path: Path) -> None:
    data = run_bench(tmp_path, "--rate", "20", "--scenario", "voice", "--duration", "1")
    assert_all_answered(data, ("voice",))
    for target in ("floor", "outreach"):
        assert data["summary"]["voice"][target]["offered_rps"] == pytest.approx(20, rel=0.3)


def test_the_in_process_breakdown_answers_every_request_of_both_apps() -> None:
    script = ROOT / "benchmarks" / "inprocess_bench.py"
    argv = [sys.executable, str(script), "--messages", "40", "--calls", "10", "--top", "3"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    for scenario in ("sms", "voice"):
        assert f"## {scenario}" in done.stdout, done.stdout
    assert done.stdout.count("| function calls/request |") == 2, done.stdout
    assert "sqlalchemy" in done.stdout, done.stdout
