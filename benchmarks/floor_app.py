"""The floor: the least code that does the real work of Outreach's webhooks, for comparison.

    FLOOR_DATABASE_URL=sqlite:////tmp/floor.db FLOOR_AUTH_TOKEN=... FLOOR_HASH_KEY=... \
        python -m uvicorn --factory floor_app:create_app --app-dir benchmarks --port 8100

Each webhook parses the form, checks X-Twilio-Signature (twilio's RequestValidator, for
FLOOR_PUBLIC_URL + path + query), hashes the caller with HMAC-SHA256, does its database
write and answers TwiML built with the twilio library:
- POST /twilio/sms: finds the keyword's reply in memory (the demo campaigns file), inserts
  one message row, answers <Message>.
- POST /twilio/voice: inserts the rows Outreach writes for a new call (the call, the count row
  the reports read, the first event of its trail) in one transaction, answers a <Say> and a
  <Gather> posting to step 1.
- POST /twilio/voice/step?seq=N: reads the call row, and if N is its step, appends the step's
  event, moves the call on (one UPDATE; after the first menu, the language on the count row)
  and answers the next <Gather>, all in one transaction; a stale step gets the stored answer
  again.
- POST /ceiling: no work at all, static TwiML (what the framework itself costs).

FLOOR_FEATURES=1 adds what every Outreach webhook carries besides its work (floor_features.py:
Outreach's middleware, the caller's parsed id and a step's caller check, a log event, the
outcome counter); webhook_bench.py runs it as "floor+features".

The database is SQLite (WAL, synchronous=NORMAL, one connection per process) or PostgreSQL
(psycopg): a statement alone runs in autocommit, a webhook's several in one transaction. The
handlers are `async` and call the database inline: each statement takes tens of
microseconds, less than handing it to a thread would.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import psycopg
from bench_traffic import DEMO_FILE, demo_keywords
from fastapi import FastAPI, Request, Response
from sqlalchemy.engine import make_url
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import VoiceResponse

TWIML = "application/xml"
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS floor_messages (id {serial} PRIMARY KEY, sid TEXT UNIQUE "
    "NOT NULL, contact TEXT NOT NULL, number TEXT NOT NULL, keyword TEXT, reply TEXT, "
    "created_at DOUBLE PRECISION NOT NULL)",
    "CREATE TABLE IF NOT EXISTS floor_calls (id {serial} PRIMARY KEY, sid TEXT UNIQUE "
    "NOT NULL, contact TEXT NOT NULL, number TEXT NOT NULL, seq INTEGER NOT NULL, "
    "state TEXT NOT NULL, last_twiml TEXT NOT NULL, started_at DOUBLE PRECISION NOT NULL)",
    "CREATE TABLE IF NOT EXISTS floor_interactions (id {serial} PRIMARY KEY, sid TEXT UNIQUE "
    "NOT NULL, contact TEXT NOT NULL, number TEXT NOT NULL, kind TEXT NOT NULL, language TEXT, "
    "created_at DOUBLE PRECISION NOT NULL)",
    "CREATE TABLE IF NOT EXISTS floor_events (id {serial} PRIMARY KEY, call_id INTEGER NOT NULL "
    "REFERENCES floor_calls (id), position INTEGER NOT NULL, node TEXT NOT NULL, kind TEXT NOT "
    "NULL, value TEXT, created_at DOUBLE PRECISION NOT NULL, UNIQUE (call_id, position))",
)
EVENT = (
    "INSERT INTO floor_events (call_id, position, node, kind, value, created_at) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)
LANGUAGES = {"1": "az", "2": "ru", "3": "en"}
DEFAULT_REPLY = "Text one of the campaign keywords."
PROMPT = ("Salam! Miqrasiya Məlumat Mərkəzi.", "Google.tr-TR-Standard-A", "tr-TR")


class Store:
    """One connection; `?` placeholders for SQLite, `%s` for PostgreSQL."""

    def __init__(self, url: str) -> None:
        self.sqlite = url.startswith("sqlite")
        if self.sqlite:
            path = url.split("///", 1)[-1]
            self.conn: Any = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.execute("PRAGMA busy_timeout=30000")
        else:
            dsn = make_url(url).set(drivername="postgresql").render_as_string(False)
            self.conn = psycopg.connect(dsn, autocommit=True)

    def execute(self, sql: str, params: tuple[Any, ...]) -> Any:
        if not self.sqlite:
            sql = sql.replace("?", "%s")
        return self.conn.execute(sql, params)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One transaction around a webhook's statements (alone, each is its own)."""
        if not self.sqlite:
            with self.conn.transaction():
                yield
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def create_schema(self) -> None:
        serial = "INTEGER" if self.sqlite else "BIGSERIAL"
        for statement in SCHEMA:
            self.conn.execute(statement.format(serial=serial))

    def close(self) -> None:
        self.conn.close()


def create_schema(url: str) -> None:
    """Creates the floor's tables (run once before the server starts)."""
    store = Store(url)
    store.create_schema()
    store.close()


def _gather(public_url: str, seq: int, text: str) -> str:
    response = VoiceResponse()
    gather = response.gather(
        input="dtmf",
        action=f"{public_url}/twilio/voice/step?seq={seq}",
        method="POST",
        timeout=6,
        num_digits=1,
        action_on_empty_result=True,
    )
    gather.say(text, voice=PROMPT[1], language=PROMPT[2])
    return str(response)


def create_app() -> FastAPI:
    """Builds the floor app from FLOOR_* environment variables."""
    url = os.environ.get("FLOOR_DATABASE_URL", "sqlite:///./floor.db")
    public_url = os.environ.get("FLOOR_PUBLIC_URL", "http://127.0.0.1:8100").rstrip("/")
    validator = RequestValidator(os.environ.get("FLOOR_AUTH_TOKEN", ""))
    hash_key = os.environ.get("FLOOR_HASH_KEY", "floor").encode()
    campaigns = Path(os.environ.get("FLOOR_CAMPAIGNS_FILE", str(DEMO_FILE)))
    replies = {(n, k.casefold()): reply for n, k, _lang, reply in demo_keywords(campaigns)}
    state: dict[str, Store] = {}
    # FLOOR_FEATURES=1: the floor also carries what every Outreach webhook carries besides
    # its work (floor_features.py); the work stays the same.
    features = None
    if os.environ.get("FLOOR_FEATURES", "") == "1":
        from floor_features import Features

        features = Features(hash_key.decode())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state["db"] = Store(url)
        yield
        state["db"].close()

    app = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)

    async def signed(request: Request) -> dict[str, str] | None:
        form = await request.form()
        target = public_url + request.url.path
        if request.url.query:
            target += "?" + request.url.query
        if not validator.validate(target, form, request.headers.get("X-Twilio-Signature", "")):
            return None
        return {key: str(value) for key, value in form.items()}

    def contact(number: str) -> str:
        if features is not None:
            return features.caller(number)[0]
        return hmac.new(hash_key, number.encode(), hashlib.sha256).hexdigest()

    def handled(webhook: str, outcome: str, **fields: Any) -> None:
        if features is not None:
            features.handled(webhook, outcome, **fields)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/ceiling")
    async def ceiling() -> Response:
        return Response(content=str(MessagingResponse().message("ok")), media_type=TWIML)

    @app.post("/twilio/sms")
    async def sms(request: Request) -> Response:
        form = await signed(request)
        if form is None:
            return Response(status_code=403)
        number, body = form.get("To", ""), form.get("Body", "")
        words = body.split()
        keyword = words[0].strip("?!.,").casefold() if words else ""
        reply = replies.get((number, keyword), DEFAULT_REPLY)
        caller = contact(form["From"])
        state["db"].execute(
            "INSERT INTO floor_messages (sid, contact, number, keyword, reply, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (form["MessageSid"], caller, number, keyword, reply, time.time()),
        )
        matched = (number, keyword) in replies
        handled("sms", "matched" if matched else "unmatched", contact=caller, keyword=keyword)
        response = MessagingResponse()
        response.message(reply)
        return Response(content=str(response), media_type=TWIML)

    @app.post("/twilio/voice")
    async def call_entry(request: Request) -> Response:
        form = await signed(request)
        if form is None:
            return Response(status_code=403)
        twiml = _gather(public_url, 1, PROMPT[0])
        db, sid, caller, now = state["db"], form["CallSid"], contact(form["From"]), time.time()
        with db.transaction():
            call_id = db.execute(
                "INSERT INTO floor_calls (sid, contact, number, seq, state, last_twiml, "
                "started_at) VALUES (?, ?, ?, 1, ?, ?, ?) RETURNING id",
                (sid, caller, form["To"], "{}", twiml, now),
            ).fetchone()[0]
            db.execute(
                "INSERT INTO floor_interactions (sid, contact, number, kind, created_at) "
                "VALUES (?, ?, ?, 'call', ?)",
                (sid, caller, form["To"], now),
            )
            db.execute(EVENT, (call_id, 0, "start", "node", None, now))
        handled("voice", "started", contact=caller)
        return Response(content=twiml, media_type=TWIML)

    @app.post("/twilio/voice/step")
    async def call_step(request: Request) -> Response:
        form = await signed(request)
        if form is None:
            return Response(status_code=403)
        db, sid = state["db"], form["CallSid"]
        with db.transaction():
            found = db.execute(
                "SELECT id, seq, state, last_twiml, contact FROM floor_calls WHERE sid = ?",
                (sid,),
            ).fetchone()
            if found is None:
                return Response(status_code=404)
            call_id, seq, raw_state, last_twiml, caller = found
            if features is not None and form.get("From") and contact(form["From"]) != caller:
                return Response(status_code=404)  # not the call's caller: a reused CallSid
            if request.query_params.get("seq") != str(seq):
                return Response(content=last_twiml, media_type=TWIML)
            digits = form.get("Digits", "")
            keys = json.loads(raw_state).get("keys", "") + digits
            twiml = _gather(public_url, seq + 1, f"Step {seq + 1}.")
            now = time.time()
            db.execute(EVENT, (call_id, seq, f"step{seq}", "key", digits or None, now))
            db.execute(
                "UPDATE floor_calls SET seq = ?, state = ?, last_twiml = ? "
                "WHERE id = ? AND seq = ?",
                (seq + 1, json.dumps({"keys": keys}), twiml, call_id, seq),
            )
            if seq == 1:  # the first menu is the language's: the call's count row learns it
                db.execute(
                    "UPDATE floor_interactions SET language = ? WHERE sid = ?",
                    (LANGUAGES.get(digits, "az"), sid),
                )
        return Response(content=twiml, media_type=TWIML)

    if features is not None:
        features.wrap(app)
    return app
