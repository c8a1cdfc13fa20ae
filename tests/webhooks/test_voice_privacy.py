"""Anonymity of calls: no raw caller number in the database (rows and file bytes) or logs."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from outreach.core.context import AppContext
from outreach.core.gateway import GatewayError
from tests.support.privacy_scan import assert_nowhere, variants
from tests.support.voice import HOTLINE, OPEN, RADIO, TV, Caller, FakeGateway

CALLERS = ["+994501234567", "+994557654321", "+994705550001"]


def test_no_raw_caller_number_in_database_or_logs(
    client: TestClient, loaded: AppContext, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    loaded.clock = lambda: OPEN
    gateway = FakeGateway()
    loaded.gateway = gateway
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

    needles = [form for number in [*CALLERS, "+994501112233"] for form in variants(number)]
    stored = assert_nowhere(loaded, caplog, needles)
    assert loaded.contact_id(CALLERS[0]) in stored
