"""A local Twilio stand-in for `outreach demo --fake-twilio`: follow-ups are seen going out.

It answers the REST API's Messages and Calls creates on 127.0.0.1 as Twilio would (201, a
fresh sid), says on the terminal that a message or a call went out (the number masked, never
the text), and a moment later posts the signed "delivered" status callback Twilio would send,
so the follow-up counts move from sent to delivered.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import httpx
from twilio.request_validator import RequestValidator

from campaigns.registry.segments import count_segments

DEMO_ACCOUNT_SID = "AC" + "d" * 32
MAX_FORM_BYTES = 64 * 1024
DELIVERY_DELAY_SECONDS = 0.5


def _masked(form: dict[str, str]) -> str:
    """The recipient as the terminal shows it: only its last two digits."""
    digits = "".join(ch for ch in form.get("To", "") if ch.isdigit())
    return f"a number ending {digits[-2:]}" if len(digits) > 4 else "a number"


class FakeTwilio:
    """The stand-in's HTTP server, in a daemon thread; `say` prints one line per send."""

    def __init__(self, *, auth_token: str, say: Callable[[str], None]) -> None:
        self.validator = RequestValidator(auth_token)
        self.say = say
        self.sent = 0
        self.lock = threading.Lock()
        self._sids = itertools.count(1)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self) -> FakeTwilio:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def message(self, form: dict[str, str]) -> dict[str, object]:
        """Records a Messages create and schedules its delivery report."""
        with self.lock:
            self.sent += 1
            sid = f"SM{next(self._sids):032x}"
        segments = count_segments(form.get("Body", "")).segments
        self.say(f"📨 Twilio stand-in: SMS to {_masked(form)}, {segments} segment(s), delivered")
        callback = form.get("StatusCallback")
        if callback:
            timer = threading.Timer(DELIVERY_DELAY_SECONDS, self.deliver, (callback, sid, form))
            timer.daemon = True
            timer.start()
        return {"sid": sid, "status": "queued", "to": form.get("To"), "num_segments": segments}

    def call(self, form: dict[str, str]) -> dict[str, object]:
        with self.lock:
            sid = f"CA{next(self._sids):032x}"
        self.say(f"📞 Twilio stand-in: call to {_masked(form)}")
        return {"sid": sid, "status": "queued", "to": form.get("To")}

    def deliver(self, url: str, sid: str, form: dict[str, str]) -> None:
        """Posts the signed status callback Twilio would send once the message is delivered."""
        params = {
            "MessageSid": sid,
            "MessageStatus": "delivered",
            "AccountSid": DEMO_ACCOUNT_SID,
            "To": form.get("To", ""),
            "From": form.get("From", ""),
        }
        signature = self.validator.compute_signature(url, params)
        try:
            httpx.post(url, data=params, headers={"X-Twilio-Signature": signature}, timeout=10)
        except httpx.HTTPError:
            return  # the demo stopped meanwhile

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                return  # quiet: request lines hold numbers

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_FORM_BYTES:
                    self._answer(413, {"status": 413, "message": "too large"})
                    return
                raw = self.rfile.read(length).decode("utf-8", "replace")
                form = {k: v[0] for k, v in parse_qs(raw).items()}
                if self.path.endswith("/Messages.json"):
                    self._answer(201, fake.message(form))
                elif self.path.endswith("/Calls.json"):
                    self._answer(201, fake.call(form))
                else:
                    self._answer(404, {"code": 20404, "message": "not found", "status": 404})

            def _answer(self, status: int, body: dict[str, object]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler
