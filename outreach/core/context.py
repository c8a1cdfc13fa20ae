"""What a running service holds: settings, database, vault and clock, shared by HTTP and jobs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from outreach.core.db import make_engine, make_session_factory, utcnow
from outreach.core.gateway import TwilioGateway
from outreach.core.privacy import NumberVault, contact_id, identify
from outreach.core.settings import Settings


@dataclass
class AppContext:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Callable[[], datetime] = utcnow
    # The Twilio client, built on first use (outreach.core.gateway.get_gateway); tests set a fake.
    gateway: TwilioGateway | None = None
    # The other gateways' clients by name (outreach.core.channels.get_sender); tests set fakes.
    senders: dict[str, Any] = field(default_factory=dict)
    # Per-process objects of the web layer (the login throttle), by name.
    extras: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings) -> AppContext:
        engine = make_engine(
            settings.database_url,
            lock_timeout=settings.db_lock_timeout_seconds,
            statement_timeout=settings.db_statement_timeout_seconds,
        )
        return cls(settings=settings, engine=engine, sessions=make_session_factory(engine))

    @property
    def vault(self) -> NumberVault:
        return NumberVault(self.settings.encryption_key)

    def contact_id(self, number: str) -> str:
        return contact_id(number, self.settings.hash_key)

    def identify(self, number: str) -> tuple[str, str | None]:
        """(contact id, ISO country) of a number: what an interaction row keeps of it."""
        return identify(number, self.settings.hash_key)
