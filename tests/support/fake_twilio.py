"""A fake twilio HttpClient: records requests, answers with scripted responses, no network."""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from twilio.http import HttpClient
from twilio.http.response import Response

Responder = Callable[[dict[str, Any]], Response]


@dataclass
class Recorded:
    method: str
    uri: str
    data: dict[str, Any]
    auth: tuple[str, str] | None


def message_json(data: dict[str, Any], sid: str, status: str = "queued") -> str:
    return json.dumps(
        {"sid": sid, "status": status, "to": data.get("To"), "from": data.get("From")}
    )


def error_response(status: int, code: int | None = None, message: str = "error") -> Response:
    body: dict[str, Any] = {"status": status, "message": message}
    if code is not None:
        body["code"] = code
    return Response(status, json.dumps(body))


@dataclass
class FakeTwilioHttp(HttpClient):
    """Answers Messages/Calls creates with fresh sids unless a scripted response is queued."""

    requests: list[Recorded] = field(default_factory=list)
    script: list[Response | Exception] = field(default_factory=list)
    fail_with: Response | Exception | None = None
    _counter: Any = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        super().__init__(logger=None, is_async=False)  # type: ignore[arg-type]

    def request(  # type: ignore[override]
        self,
        method: str,
        uri: str,
        params: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        with self._lock:
            form = dict(data or {})
            self.requests.append(Recorded(method, uri, form, auth))
            outcome: Response | Exception | None = self.script.pop(0) if self.script else None
            if outcome is None:
                outcome = self.fail_with
            if isinstance(outcome, Exception):
                raise outcome
            if outcome is not None:
                return outcome
            n = next(self._counter)
        prefix = "CA" if uri.endswith("/Calls.json") else "SM"
        return Response(201, message_json(form, f"{prefix}{n:032x}"))

    def sent_to(self, number: str) -> list[Recorded]:
        return [r for r in self.requests if r.data.get("To") == number]
