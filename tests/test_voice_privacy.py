"""Anonymity of calls: no raw caller number in the database (rows and file bytes) or logs."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from voice_helpers import HOTLINE, OPEN, RADIO, TV, Caller, FakeGateway

from outreach.context import AppContext
from outreach.gateway import GatewayError

CALLERS = ["+994501234567", "+994557654321", "+994705550001"]


def variants(number: str) -> list[str]:
    digits = number.lstrip("+")
    return [number, digits, digits[3:], f"{digits[3:5]} {digits[5:8]} {digits[8:10]} {digits[10:]}"]


def database_text(ctx: AppContext) -> str:
    from outreach.models import metadata

    chunks: list[str] = []
    with ctx.engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(text(f'SELECT * FROM "{table.name}"')):
                chunks.append(" ".join(str(v) for v in row))
    return "\n".join(chunks)


def test_no_raw_caller_number_in_database_or_logs(
    client: TestClient, loaded: AppContext, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    loaded.clock = lambda: OPEN
    gateway = FakeGateway()
    loaded.extras["gateway"] = gateway
    for number in CALLERS:
        call = Caller(client, RADIO, caller=number)
        call.start()
        for keys in ("1", "2", "3", "1", "9"):  # az, contracts, SMS opt-in, yes
            if call.ended:
                break
            call.press(keys)
        call.status("completed", 30)
        hotline = Caller(client, HOTLINE, caller=number)
        hotline.start()
        hotline.press("2")
        hotline.press("101#")
        hotline.press("0")
        hotline.dial_result("no-answer")
        hotline.status("completed", 80)
        Caller(client, TV, caller=number).start()  # missed call, called back
    gateway.error = GatewayError("later", status=503, permanent=False)
    Caller(client, TV, caller="+994501112233").start()  # stays pending, number sealed
    assert len(gateway.calls) == len(CALLERS) + 1

    stored = database_text(loaded)
    raw_file = b""
    db_path = loaded.settings.sqlite_path()
    if db_path is not None:
        loaded.engine.dispose()
        raw_file = b"".join(p.read_bytes() for p in db_path.parent.glob(db_path.name + "*"))
    logs = "\n".join(r.getMessage() + " " + str(vars(r)) for r in caplog.records)
    assert loaded.contact_id(CALLERS[0]) in stored
    for number in [*CALLERS, "+994501112233"]:
        for form in variants(number):
            assert form not in stored, form
            assert form.encode() not in raw_file, form
            assert form not in logs, form
