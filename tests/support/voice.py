"""Helpers for voice tests: a signed caller that walks TwiML through the real webhooks."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy import select

from campaigns.voice.models import Call, CallEvent
from outreach.core.context import AppContext
from tests.support.app import PUBLIC_URL, signed_post

CALLER = "+994501234567"
RADIO = "+994125550101"  # AZ-RADIO-IDMAN-2027, psa 101
RADIO_ANS = "+994125550102"  # AZ-RADIO-ANS-2027, psa 102
TV = "+994125550103"  # AZ-TV-ITV-2027, missed-call callback, psa 201
HOTLINE = "+994125550100"


def baku(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A Baku wall-clock time as an aware UTC datetime."""
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo("Asia/Baku")).astimezone(UTC)


OPEN = baku(2027, 2, 1, 10)  # a Monday, 10:00 in Baku
CLOSED = baku(2027, 2, 6, 11)  # a Saturday


class FakeGateway:
    """Records place_call requests; optionally fails with a given error."""

    def __init__(self, error: Exception | None = None) -> None:
        self.calls: list[dict[str, Any]] = []
        self.error = error

    def place_call(
        self,
        *,
        to: str,
        from_: str,
        url: str,
        status_callback: str | None = None,
        attempts: int = 1,
    ) -> str:
        self.calls.append(
            {"to": to, "from_": from_, "url": url, "status_callback": status_callback}
        )
        if self.error is not None:
            raise self.error
        return "CA" + secrets.token_hex(16)


def verbs(twiml: str) -> list[ElementTree.Element]:
    return list(ElementTree.fromstring(twiml))


def said(twiml: str) -> list[str]:
    """Returns every Say text and Play URL of a TwiML answer, in order."""
    root = ElementTree.fromstring(twiml)
    return [(e.text or "").strip() for e in root.iter() if e.tag in ("Say", "Play")]


def path_of(url: str) -> str:
    assert url.startswith(PUBLIC_URL), url
    return url[len(PUBLIC_URL) :]


class Caller:
    """One phone call through the webhooks, signed like Twilio."""

    def __init__(self, client: TestClient, to: str, caller: str = CALLER, sid: str | None = None):
        self.client, self.to, self.caller = client, to, caller
        self.sid = sid or "CA" + secrets.token_hex(16)
        self.twiml = ""
        self.last_path = ""
        self.last_form: dict[str, str] = {}

    def form(self, **extra: str) -> dict[str, str]:
        base = {
            "CallSid": self.sid,
            "AccountSid": "AC" + "0" * 32,
            "From": self.caller,
            "To": self.to,
            "Direction": "inbound",
            "CallStatus": "in-progress",
        }
        return {**base, **extra}

    def post(self, path: str, form: dict[str, str]) -> str:
        response = signed_post(self.client, path, form)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("application/xml")
        ElementTree.fromstring(response.text)  # always valid XML
        self.last_path, self.last_form, self.twiml = path, form, response.text
        return response.text

    def start(self) -> str:
        return self.post("/twilio/voice", self.form(CallStatus="ringing"))

    def action(self) -> str:
        for verb in verbs(self.twiml):
            if verb.tag in ("Gather", "Dial"):
                return path_of(verb.get("action", ""))
            if verb.tag == "Redirect":
                return path_of((verb.text or "").strip())
        raise AssertionError(f"no Gather/Dial/Redirect in {self.twiml}")

    def press(self, digits: str) -> str:
        """Sends keys to the current Gather ("" = no input)."""
        return self.post(self.action(), self.form(Digits=digits))

    def dial_result(self, status: str) -> str:
        return self.post(self.action(), self.form(DialCallStatus=status))

    def retry(self) -> str:
        """Sends the previous request again, as Twilio does on a timeout."""
        return self.post(self.last_path, self.last_form)

    def status(self, status: str = "completed", duration: int = 42) -> int:
        response = signed_post(
            self.client,
            "/twilio/voice/status",
            self.form(CallStatus=status, CallDuration=str(duration)),
        )
        return int(response.status_code)

    @property
    def ended(self) -> bool:
        return any(v.tag in ("Hangup", "Reject") for v in verbs(self.twiml))


def record(ctx: AppContext, sid: str) -> tuple[Call, list[CallEvent]]:
    """Returns the stored call and its events (in order)."""
    with ctx.sessions() as session:
        call = session.scalar(select(Call).where(Call.call_sid == sid))
        assert call is not None
        events = list(
            session.scalars(
                select(CallEvent).where(CallEvent.call_id == call.id).order_by(CallEvent.position)
            )
        )
        session.expunge_all()
    return call, events


def path(events: list[CallEvent]) -> list[str]:
    return [e.node for e in events if e.kind == "entered"]
