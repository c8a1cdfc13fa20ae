"""Runs the terminal phone from the CLI: against a service or in-process, at a given time.

`outreach call --to NUMBER [--keys 1,2,#] [--consultant busy] [--at "2027-02-01 10:00"]`
walks one call (see outreach.demo.phone) and prints the stored call record when it can read it.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
from rich.console import Console
from sqlalchemy import select

from campaigns.registry.models import Campaign
from campaigns.voice.models import Call, CallEvent
from outreach.core.db import make_engine, make_session_factory
from outreach.core.settings import Settings
from outreach.demo.client import fallback_note, in_process_client, post_signed
from outreach.demo.phone import Consultant, Keypad, Phone


def _service_up(base: str) -> bool:
    try:
        return httpx.get(base.rstrip("/") + "/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def parse_at(value: str, timezone: str) -> datetime:
    """Reads `--at` ("2027-02-01 10:00", local to `timezone` unless it has an offset)."""
    at = datetime.fromisoformat(value.strip())
    return at if at.tzinfo else at.replace(tzinfo=ZoneInfo(timezone))


def run_phone(
    settings: Settings,
    *,
    to: str,
    caller: str,
    keys: str | None,
    url: str | None,
    in_process: bool,
    consultant: Consultant = Consultant.ANSWERS,
    at: str | None = None,
) -> int:
    """Runs one call from the terminal; returns the exit code."""
    console = Console()
    base = url or settings.public_url
    if at is not None:
        if url:
            console.print("[red]--at needs the app in this process[/red] (drop --url)")
            return 2
        try:
            moment = parse_at(at, settings.default_timezone)
        except ValueError:
            console.print(f"[red]--at {at!r} is not a time like '2027-02-01 10:00'[/red]")
            return 2
        in_process = True
        in_process_client(settings).app.state.ctx.clock = lambda: moment
    if not in_process and not _service_up(base):
        if url:
            console.print(f"[red]no service answers at {url}[/red] (start it, or use --in-process)")
            return 2
        console.print(fallback_note(base, settings), style="yellow", markup=False)
        in_process = True

    def post(path: str, params: dict[str, str]) -> tuple[int, str]:
        return post_signed(settings, path, params, url=base, in_process=in_process)

    keypad = Keypad([k.strip() for k in keys.split(",")] if keys is not None else None)
    phone = Phone(settings, post, keypad, console, consultant)
    console.print(f"[dim]📞 calling {to} (call {phone.sid})[/dim]")
    outcome = phone.call(to, caller)
    _print_record(settings, phone.sid, console)
    return 0 if outcome in ("completed", "busy") else 1


def _print_record(settings: Settings, call_sid: str, console: Console) -> None:
    """Prints the stored call record (path, results, outcome) when this database has it."""

    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            call = session.scalar(select(Call).where(Call.call_sid == call_sid))
            if call is None:
                return
            entered = session.scalars(
                select(CallEvent.node)
                .where(CallEvent.call_id == call.id, CallEvent.kind == "entered")
                .order_by(CallEvent.position)
            ).all()
            code = session.scalar(select(Campaign.code).where(Campaign.id == call.campaign_id))
            console.print(
                f"call record: campaign {code or 'none'} ({call.attribution}), "
                f"language {call.language}, outcome {call.outcome} at {call.ended_node}, "
                f"duration {call.duration_seconds} s\n  path: {' → '.join(entered)}\n"
                f"  results: {call.results}",
                markup=False,
                highlight=False,
            )
    except Exception as exc:  # another database (remote service): nothing to show here
        console.print(f"[dim]call record not readable here: {type(exc).__name__}[/dim]")
    finally:
        engine.dispose()
