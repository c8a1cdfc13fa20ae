"""Test helpers every test may use: settings, the repository root, signed Twilio requests."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from twilio.request_validator import RequestValidator

from outreach.core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
TEST_TOKEN = "test-auth-token-0123456789abcdef"
PUBLIC_URL = "https://outreach.example.org"
POSTGRES_URL = os.environ.get("OUTREACH_TEST_POSTGRES_URL", "")
DEMO_FILE = ROOT / "campaigns" / "demo" / "campaigns.yaml"


def make_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "public_url": PUBLIC_URL,
        "twilio_account_sid": "AC" + "0" * 32,
        "twilio_auth_token": TEST_TOKEN,
        "hash_key": "test-hash-key",
        "encryption_key": Fernet.generate_key().decode(),
        "session_secret": "test-session-secret",
        "scheduler_enabled": False,
    }
    values.update(overrides)
    return Settings(**values)


def sign(path: str, params: dict[str, str], token: str = TEST_TOKEN) -> str:
    """Computes Twilio's signature for a POST to PUBLIC_URL + path."""
    return RequestValidator(token).compute_signature(PUBLIC_URL + path, params)


def signed_post(client: TestClient, path: str, params: dict[str, str], **kw: Any) -> Any:
    headers = {"X-Twilio-Signature": sign(path, params)}
    headers.update(kw.pop("headers", {}))
    return client.post(path, data=params, headers=headers, **kw)
