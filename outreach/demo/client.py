"""A Twilio-signed client: POSTs webhooks to a running service, or to the app in this process."""

from __future__ import annotations

import logging
import warnings
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from rich.console import Console
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from campaigns.registry.models import Campaign
from outreach.app import create_app
from outreach.core.db import session_scope
from outreach.core.settings import Settings
from outreach.demo.campaigns import load_demo
from outreach.demo.state import read_state, state_path

with warnings.catch_warnings():
    # Starlette's TestClient is the in-process transport here, not a test.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

console = Console()


class NoService(Exception):
    """An explicit --url did not answer."""


def find_demo(settings: Settings, url: str | None) -> Settings:
    """Points a client at the running `outreach demo` (its outreach.demo.json), saying so.

    An explicit --url, or a configured OUTREACH_PUBLIC_URL, wins over the state file."""
    if url is not None or "public_url" in settings.model_fields_set:
        return settings
    state = read_state(settings)
    if state is None:
        return settings
    console.print(f"[dim]using the demo at {state.url} ({state_path(settings).name})[/dim]")
    return settings.model_copy(update={"public_url": state.url})


def fallback_note(base: str, settings: Settings) -> str:
    """What a client says when no service answers and it runs the app here instead."""
    where = settings.sqlite_path() or "the configured database"
    return (
        f"no service answers at {base}: running in-process on {where} instead "
        "(start `outreach demo` in another terminal, or pass --url)"
    )


def post_signed(
    settings: Settings, path: str, params: dict[str, str], *, url: str | None, in_process: bool
) -> tuple[int, str]:
    """POSTs a Twilio-signed form to a running service, or in-process when none answers."""
    if not in_process:
        base = (url or settings.public_url).rstrip("/")
        # The service checks signatures against its public URL: ours when it is configured,
        # else the URL we post to (a local demo on another port is its own public URL).
        signed = settings.public_url if "public_url" in settings.model_fields_set else base
        try:
            resp = httpx.post(
                base + path,
                data=params,
                headers=signature(settings, signed, path, params),
                timeout=20,
            )
            return resp.status_code, resp.text
        except httpx.TransportError as exc:
            if url is not None:
                raise NoService(f"no service answers at {base}") from exc
            console.print(fallback_note(base, settings), style="yellow", markup=False)
    # In-process the app checks against its own public URL.
    headers = signature(settings, settings.public_url, path, params)
    resp = in_process_client(settings).post(path, data=params, headers=headers)
    return resp.status_code, resp.text


def signature(settings: Settings, base: str, path: str, params: dict[str, str]) -> dict[str, str]:
    """The X-Twilio-Signature header Twilio would send for this POST."""
    validator = RequestValidator(settings.twilio_auth_token)
    return {"X-Twilio-Signature": validator.compute_signature(base.rstrip("/") + path, params)}


_CLIENTS: dict[str, Any] = {}


def in_process_client(settings: Settings) -> Any:
    """Builds the app here (migrating; loading the demo into an empty database)."""
    if settings.database_url not in _CLIENTS:
        logging.getLogger().setLevel(logging.WARNING)
        app = create_app(settings, start_background=False)
        with session_scope(app.state.ctx.sessions) as session:
            if not session.scalar(select(func.count()).select_from(Campaign)):
                today = app.state.ctx.clock().astimezone(ZoneInfo(settings.default_timezone))
                load_demo(session, day=today.date(), default_timezone=settings.default_timezone)
        _CLIENTS[settings.database_url] = TestClient(app)
    return _CLIENTS[settings.database_url]
