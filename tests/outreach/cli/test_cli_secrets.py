"""`outreach secrets generate`: fresh, valid env lines for every secret; they start the service."""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

import httpx
from cryptography.fernet import Fernet
from twilio.request_validator import RequestValidator
from typer.testing import CliRunner

from outreach.cli import app
from outreach.core.settings import Settings, env_name
from tests.support.processes import OutreachProcess, answers, free_port, wait_until

SECRET_NAME = re.compile(r"key|secret|token|password", re.IGNORECASE)


def generate() -> tuple[dict[str, str], str]:
    result = CliRunner().invoke(app, ["secrets", "generate"])
    assert result.exit_code == 0, result.output
    values = {}
    for line in result.output.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name] = value
    return values, result.output


def test_generate_prints_a_valid_value_for_every_secret_the_service_needs() -> None:
    values, output = generate()
    fernet = Fernet(values["OUTREACH_ENCRYPTION_KEY"].encode())  # raises on a malformed key
    assert fernet.decrypt(fernet.encrypt(b"+994501234567")) == b"+994501234567"
    assert re.fullmatch(r"[0-9a-f]{64}", values["OUTREACH_HASH_KEY"])
    assert re.fullmatch(r"[0-9a-f]{64}", values["OUTREACH_SESSION_SECRET"])
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", values["POSTGRES_PASSWORD"])  # URL-safe
    # Twilio's token is Twilio's: a commented placeholder, so `>> .env` never blanks a real one.
    assert "TWILIO_AUTH_TOKEN" not in values
    assert "\n# TWILIO_AUTH_TOKEN=\n" in output


def test_each_run_prints_different_values() -> None:
    first, _ = generate()
    second, _ = generate()
    assert first.keys() == second.keys()
    assert all(first[name] != second[name] for name in first)


def test_every_secret_setting_is_generated_except_twilios_token() -> None:
    values, _ = generate()
    secret_fields = {f for f in Settings.model_fields if SECRET_NAME.search(f)}
    assert secret_fields
    missing = {env_name(f) for f in secret_fields} - set(values) - {"TWILIO_AUTH_TOKEN"}
    assert not missing, f"add these to outreach secrets generate: {sorted(missing)}"


def test_the_generated_secrets_start_the_service(tmp_path: Path) -> None:
    values, _ = generate()
    port, token = free_port(), secrets.token_hex(16)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OUTREACH_", "TWILIO_"))}
    env.update(values)
    env.update(
        TWILIO_AUTH_TOKEN=token,
        OUTREACH_DATABASE_URL=f"sqlite:///{tmp_path / 'outreach.db'}",
        OUTREACH_PORT=str(port),
        OUTREACH_PUBLIC_URL=f"http://127.0.0.1:{port}",
        OUTREACH_SCHEDULER_ENABLED="0",
    )
    service = OutreachProcess(["serve"], env, tmp_path / "serve.log", tmp_path).start()
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: answers(base + "/healthz"), "outreach serve", [service.log])
        params = {"MessageSid": "SM" + "1" * 32, "From": "+994501234567", "To": "+994502000101"}
        params["Body"] = "iş"
        signature = RequestValidator(token).compute_signature(base + "/twilio/sms", params)
        resp = httpx.post(
            base + "/twilio/sms", data=params, headers={"X-Twilio-Signature": signature}
        )
        assert resp.status_code == 200, resp.text
        assert httpx.get(base + "/readyz").status_code == 200
        # The generated metrics token opens /metrics; nothing else does.
        bearer = {"Authorization": f"Bearer {values['OUTREACH_METRICS_TOKEN']}"}
        assert httpx.get(base + "/metrics").status_code == 401
        metrics = httpx.get(base + "/metrics", headers=bearer)
        assert metrics.status_code == 200 and "outreach_webhook_outcomes_total" in metrics.text
    finally:
        service.stop()
    assert not (tmp_path / "outreach.secrets.json").exists()  # not demo mode
