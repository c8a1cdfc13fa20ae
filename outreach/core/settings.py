"""One settings object, read from the environment (and a demo secrets file)."""

from __future__ import annotations

import json
import secrets
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet
from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from outreach.core.db import LOCK_TIMEOUT_SECONDS, STATEMENT_TIMEOUT_SECONDS

DEFAULT_DATABASE_URL = "sqlite:///./outreach.db"
SECRETS_FILE_NAME = "outreach.secrets.json"


class ConfigError(RuntimeError):
    """Raised when the service cannot start with the configuration it was given."""


class Settings(BaseSettings):
    """Every knob of the service; the README lists each with its default."""

    model_config = SettingsConfigDict(env_prefix="OUTREACH_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    # Bounds on database waits, so a webhook answers (or apologises) within Twilio's 15 s.
    db_lock_timeout_seconds: float = Field(default=LOCK_TIMEOUT_SECONDS, gt=0)
    db_statement_timeout_seconds: float = Field(default=STATEMENT_TIMEOUT_SECONDS, ge=0)
    public_url: str = "http://127.0.0.1:8000"
    host: str = "127.0.0.1"
    port: int = 8000
    demo: bool = False
    insecure_skip_signature: bool = False
    log_level: str = "INFO"

    twilio_account_sid: str = Field(
        default="",
        validation_alias=AliasChoices("TWILIO_ACCOUNT_SID", "OUTREACH_TWILIO_ACCOUNT_SID"),
    )
    twilio_auth_token: str = Field(
        default="", validation_alias=AliasChoices("TWILIO_AUTH_TOKEN", "OUTREACH_TWILIO_AUTH_TOKEN")
    )
    twilio_api_base_url: str = Field(
        default="",
        validation_alias=AliasChoices("TWILIO_API_BASE_URL", "OUTREACH_TWILIO_API_BASE_URL"),
    )
    hash_key: str = ""
    encryption_key: str = ""
    session_secret: str = ""
    login_max_failures: int = 5
    login_window_seconds: int = 900

    default_timezone: str = "Asia/Baku"
    quiet_hours_start: str = "22:00"
    quiet_hours_end: str = "08:00"
    opt_out_words: str = "DAYANDIR,СТОП,ОТПИСАТЬСЯ"
    opt_in_words: str = "BƏLİ,HƏ,ДА"
    callbacks_per_day: int = 3
    send_rate_per_second: float = 10.0
    send_max_attempts: int = 5
    send_retry_base_seconds: float = 30.0
    dispatch_interval_seconds: float = 5.0
    dispatch_lease_seconds: int = 300
    scheduler_enabled: bool = True
    small_cell_k: int = 5
    rollup_lag_hours: int = 2
    rollup_refresh_seconds: int = 60
    lift_baseline_minutes: int = 30
    lift_window_minutes: int = 10
    retention_days: int = 400
    campaigns_file: str = ""
    flows_dir: str = ""

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def sqlite_path(self) -> Path | None:
        """Returns the SQLite file path, or None for in-memory or other databases."""
        if not self.is_sqlite:
            return None
        path = self.database_url.split("///", 1)[-1]
        if not path or path == ":memory:":
            return None
        return Path(path)

    def ensure_secrets(self) -> Settings:
        """Fills demo secrets from a file beside the database, or refuses missing ones."""
        needed = ("hash_key", "encryption_key", "session_secret", "twilio_auth_token")
        missing = [name for name in needed if not getattr(self, name)]
        if not missing:
            return self
        if not self.demo:
            names = ", ".join(_env_name(name) for name in missing)
            raise ConfigError(
                f"missing secret(s): {names}. Set them in the environment, "
                "or run the demo (outreach demo / OUTREACH_DEMO=1), which generates its own."
            )
        stored = _load_or_create_demo_secrets(self.secrets_path())
        updates = {name: stored[name] for name in missing}
        return self.model_copy(update=updates)

    def secrets_path(self) -> Path:
        db = self.sqlite_path()
        base = db.parent if db is not None else Path.cwd()
        return base / SECRETS_FILE_NAME


def _env_name(field: str) -> str:
    if field.startswith("twilio_"):
        return field.upper()
    return f"OUTREACH_{field.upper()}"


def _load_or_create_demo_secrets(path: Path) -> dict[str, str]:
    if path.exists():
        data: dict[str, str] = json.loads(path.read_text())
    else:
        data = {}
    fresh = {
        "hash_key": secrets.token_hex(32),
        "encryption_key": Fernet.generate_key().decode(),
        "session_secret": secrets.token_hex(32),
        "twilio_auth_token": secrets.token_hex(16),
    }
    changed = False
    for key, value in fresh.items():
        if not data.get(key):
            data[key] = value
            changed = True
    if changed:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=2))
        path.chmod(0o600)
    return data


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Returns the process-wide settings, secrets resolved."""
    return Settings().ensure_secrets()
