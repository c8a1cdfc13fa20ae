"""A tiny local stand-in for Twilio's Messages, Calls and Recordings media, on 127.0.0.1.

Counts messages per To (`per_to`) and placed calls per To (`calls_to`). Used by the SIGKILL
test and the worker test (subprocesses send to it) and by benchmarks/dispatch_bench.py.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import Counter, defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


class FakeTwilioServer:
    """Answers Messages creates with 201 and a fresh sid; `delay` slows each answer."""

    def __init__(
        self, *, delay: float = 0.0, fail_status: int | None = None, fail_calls: int = 0
    ) -> None:
        self.delay = delay
        self.fail_status = fail_status
        self.fail_calls = fail_calls  # the first this many call creates get a 503
        self.per_to: Counter[str] = Counter()
        self.calls_to: Counter[str] = Counter()
        self.times: dict[str, list[float]] = defaultdict(list)  # From -> arrival times
        # RecordingSid -> WAV served at .../Recordings/<sid>.wav (basic auth: `auth`).
        self.recordings: dict[str, bytes] = {}
        self.recording_fetches: Counter[str] = Counter()
        self.auth: str | None = None
        self.lock = threading.Lock()
        self._sids = itertools.count(1)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self.port = int(self.httpd.server_address[1])
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out in two writes

            def log_message(self, format: str, *args: object) -> None:
                return  # quiet: the bodies hold numbers

            def do_GET(self) -> None:
                if "/Recordings/" in self.path and self.path.endswith(".wav"):
                    self._recording()
                    return
                if self.path != "/_stats":
                    self._answer(404, {"status": 404})
                    return
                with server.lock:
                    stats = {"per_to": dict(server.per_to), "times": dict(server.times)}
                self._answer(200, stats)

            def do_DELETE(self) -> None:
                server.reset()
                self._answer(200, {})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                if len(body) < length:
                    # The client died mid-request (the SIGKILL test): Twilio would create
                    # nothing from half a form, so neither is it counted here.
                    self.close_connection = True
                    return
                form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
                if self.path.endswith("/Calls.json"):
                    self._call(form)
                    return
                if not self.path.endswith("/Messages.json"):
                    self._answer(404, {"code": 20404, "message": "not found", "status": 404})
                    return
                if server.fail_status is not None:
                    self._answer(
                        server.fail_status, {"message": "down", "status": server.fail_status}
                    )
                    return
                with server.lock:
                    server.per_to[form.get("To", "")] += 1
                    server.times[form.get("From", "")].append(time.monotonic())
                    sid = f"SM{next(server._sids):032x}"
                if server.delay:
                    time.sleep(server.delay)
                self._answer(201, {"sid": sid, "status": "queued", "to": form.get("To")})

            def _call(self, form: dict[str, str]) -> None:
                with server.lock:
                    server.calls_to[form.get("To", "")] += 1
                    failing = server.fail_calls > 0
                    server.fail_calls -= 1 if failing else 0
                    sid = f"CA{next(server._sids):032x}"
                if failing:
                    self._answer(503, {"message": "down", "status": 503})
                    return
                self._answer(201, {"sid": sid, "status": "queued", "to": form.get("To")})

            def _recording(self) -> None:
                sid = self.path.rsplit("/", 1)[-1].removesuffix(".wav")
                if server.auth is not None and self.headers.get("Authorization") != server.auth:
                    self._answer(401, {"code": 20003, "message": "authenticate", "status": 401})
                    return
                with server.lock:
                    server.recording_fetches[sid] += 1
                    data = server.recordings.get(sid)
                if data is None:
                    self._answer(404, {"code": 20404, "message": "not found", "status": 404})
                    return
                self.send_response(200)
                self.send_header("Content-Type", "audio/x-wav")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _answer(self, status: int, body: dict[str, object]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler

    def start(self) -> FakeTwilioServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def reset(self) -> None:
        with self.lock:
            self.per_to.clear()
            self.times.clear()

    @property
    def total(self) -> int:
        with self.lock:
            return sum(self.per_to.values())


def main() -> None:
    """Runs the server alone (for the benchmark): prints its port, serves until killed."""
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--delay", type=float, default=0.0)
    args = parser.parse_args()
    server = FakeTwilioServer(delay=args.delay)
    print(server.port, flush=True)
    server.httpd.serve_forever()


if __name__ == "__main__":
    main()
