"""One settings object, read from the environment (and a demo secrets file)."""

from __future__ import annotations

import ipaddress
import json
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from cryptography.fernet import Fernet
from pydantic import AliasChoices, Field, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from outreach.core.db import LOCK_TIMEOUT_SECONDS, STATEMENT_TIMEOUT_SECONDS

DEFAULT_DATABASE_URL = "sqlite:///./outreach.db"
SECRETS_FILE_NAME = "outreach.secrets.json"

ProxyNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


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
    # uvicorn worker processes of `outreach serve` (metrics then use the multiprocess mode).
    web_workers: int = Field(default=1, ge=1, le=64)
    # The event loop of `outreach serve` (see `serve_loop`): "auto", "asyncio" or "uvloop".
    event_loop: Literal["auto", "asyncio", "uvloop"] = "auto"
    demo: bool = False
    insecure_skip_signature: bool = False
    log_level: str = "INFO"
    # "text" (one `message key=value` line) or "json" (one JSON object a line).
    log_format: Literal["text", "json"] = "text"
    # Bearer token of /metrics; empty: /metrics answers 404 (metrics are not served).
    metrics_token: str = ""

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
    login_user_max_failures: int = 20
    login_window_seconds: int = 900
    # Request body caps in bytes, per route class (413 above them, before the body is read).
    body_limit_twilio: int = Field(default=64 * 1024, ge=0)
    body_limit_api: int = Field(default=1024 * 1024, ge=0)
    body_limit_web: int = Field(default=64 * 1024, ge=0)
    # Addresses or networks of reverse proxies whose X-Forwarded-For is believed (default none).
    trusted_proxies: str = ""

    default_timezone: str = "Asia/Baku"
    quiet_hours_start: str = "22:00"
    quiet_hours_end: str = "08:00"
    opt_out_words: str = "DAYANDIR,СТОП,ОТПИСАТЬСЯ"
    opt_in_words: str = "BƏLİ,HƏ,ДА"
    callbacks_per_day: int = 3
    callback_retry_seconds: float = 60.0
    send_rate_per_second: float = 10.0
    send_max_attempts: int = 5
    send_retry_base_seconds: float = 30.0
    dispatch_interval_seconds: float = 5.0
    dispatch_lease_seconds: int = 300
    scheduler_enabled: bool = True
    small_cell_k: int = 5
    # Viewers' counts are rounded to a multiple of this (1: not rounded); see the README.
    report_rounding_base: int = Field(default=5, ge=1)
    rollup_lag_hours: int = 2
    rollup_refresh_seconds: int = 60
    lift_baseline_minutes: int = 30
    lift_window_minutes: int = 10
    retention_days: int = 400
    # 0: the purge runs daily at 03:30 local time; more: every that many seconds instead.
    retention_purge_interval_seconds: float = 0.0
    campaigns_file: str = ""
    flows_dir: str = ""
    # Recorded prompts (normalised 8 kHz mono WAV), outside the code tree; relative = to the
    # working directory. Uploads are refused above the size or the duration.
    media_dir: str = "media"
    audio_max_bytes: int = Field(default=5 * 1024 * 1024, gt=0)
    audio_max_seconds: float = Field(default=120.0, gt=0)
    # The number managers call to record a prompt with a one-time code (README "Voice menus");
    # empty: no recording by phone. Point it at /twilio/voice like the other voice numbers.
    studio_number: str = ""

    # Kannel (the numbers listed under `channels: kannel`): README "Connecting a local operator
    # through Kannel". The secret is the last segment of the URLs smsbox calls.
    kannel_secret: str = ""
    kannel_sendsms_url: str = "http://127.0.0.1:13013/cgi-bin/sendsms"
    kannel_username: str = "outreach"
    kannel_password: str = ""
    # Where smsbox reaches this service (MO get-url and DLR callbacks); empty: OUTREACH_PUBLIC_URL.
    kannel_callback_url: str = ""
    # Addresses or networks allowed to call the Kannel endpoints (empty: any, the secret decides).
    kannel_allow_ips: str = ""

    # A generic HTTP aggregator (the numbers listed under `channels: http`).
    http_channel_secret: str = ""
    http_channel_send_url: str = ""
    http_channel_send_method: str = "POST"
    http_channel_send_body: str = (
        '{"to": {{ to|tojson }}, "from": {{ sender|tojson }}, "text": {{ text|tojson }}, '
        '"id": {{ id|tojson }}, "callback": {{ callback|tojson }}}'
    )
    http_channel_content_type: str = "application/json"
    http_channel_auth_header: str = ""
    http_channel_success_status: str = "200-299"
    http_channel_success_text: str = ""
    http_channel_field_from: str = "from"
    http_channel_field_to: str = "to"
    http_channel_field_text: str = "text"
    http_channel_field_id: str = "id"

    @field_validator("log_format", mode="before")
    @classmethod
    def _format_lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("trusted_proxies", "kannel_allow_ips")
    @classmethod
    def _proxies_parse(cls, value: str, info: ValidationInfo) -> str:
        try:
            _parse_networks(value)
        except ValueError as exc:  # name the variable to fix, as the operator writes it
            raise ValueError(f"{env_name(str(info.field_name))} {exc}") from exc
        return value

    def serve_loop(self) -> str:
        """The loop uvicorn runs: "auto" is the standard one for one process, uvloop for more.

        Measured (BENCHMARKS.md): one process under a burst on uvloop answered some connections
        ten times later than the median, the standard loop within about twice it, at the same
        throughput. Several processes share one listening socket, and the standard loop's
        accept takes every waiting connection at once: one process got the whole burst and
        throughput halved, where uvloop's one-at-a-time accept spreads it.
        """
        if self.event_loop != "auto":
            return self.event_loop
        return "asyncio" if self.web_workers == 1 else "auto"  # uvicorn's auto: uvloop

    def trusted_proxy_networks(self) -> tuple[ProxyNetwork, ...]:
        """The trusted proxies as networks (a bare address is a network of one)."""
        return _parse_networks(self.trusted_proxies)

    def kannel_networks(self) -> tuple[ProxyNetwork, ...]:
        """The addresses allowed to call the Kannel endpoints (empty: any)."""
        return _parse_networks(self.kannel_allow_ips)

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
        if not self.demo and self.secrets_path().exists():
            raise ConfigError(stale_demo_secrets_message(self.secrets_path()))
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


def stale_demo_secrets_message(path: Path) -> str:
    """Why a service outside demo mode refuses a demo secrets file in its secrets path."""
    return (
        f"found the demo secrets file {path}, but demo mode is off (OUTREACH_DEMO is not set). "
        "It is left over from `outreach demo`, and a service outside demo mode never uses demo "
        "secrets or a demo database. To run in production, delete that file (and the demo "
        "database beside it, or point OUTREACH_DATABASE_URL elsewhere) and set the secrets in "
        "the environment. To run the demo, use `outreach demo` or set OUTREACH_DEMO=1."
    )


def _parse_networks(value: str) -> tuple[ProxyNetwork, ...]:
    try:
        return tuple(
            ipaddress.ip_network(part.strip(), strict=False)
            for part in value.split(",")
            if part.strip()
        )
    except ValueError as exc:
        raise ValueError(f"must list IP addresses or networks, comma-separated: {exc}") from exc


def _env_name(field: str) -> str:
    if field.startswith("twilio_"):
        return field.upper()
    return f"OUTREACH_{field.upper()}"


def env_name(field: str) -> str:
    """Returns the environment variable that sets a field: its first alias, or OUTREACH_NAME."""
    alias = Settings.model_fields[field].validation_alias
    if isinstance(alias, AliasChoices) and isinstance(alias.choices[0], str):
        return alias.choices[0]
    return f"{Settings.model_config.get('env_prefix', '')}{field}".upper()


def generate_secrets() -> dict[str, str]:
    """Returns fresh values for the service's own secrets (Twilio's auth token is Twilio's)."""
    return {
        "hash_key": secrets.token_hex(32),
        "encryption_key": Fernet.generate_key().decode(),
        "session_secret": secrets.token_hex(32),
    }


def _load_or_create_demo_secrets(path: Path) -> dict[str, str]:
    if path.exists():
        data: dict[str, str] = json.loads(path.read_text())
    else:
        data = {}
    fresh = {**generate_secrets(), "twilio_auth_token": secrets.token_hex(16)}
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
