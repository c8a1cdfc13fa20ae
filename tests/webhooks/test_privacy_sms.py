"""Anonymity: after a batch of messages, no raw number or body is in the database or logs."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from outreach.core.context import AppContext
from outreach.core.privacy import contact_id, scrub
from tests.support.app import signed_post
from tests.support.privacy_scan import assert_nowhere, variants

SENDERS = [f"+99450{n:07d}" for n in (1234567, 7654321, 5550001, 1112233)]
BODIES = [
    "iş necə tapım?",
    "работа в России",
    "work in Dubai please",
    "salam",
    "STOPPPP nope",
    "виза?",
]


def send_batch(client: Any) -> None:
    for i, sender in enumerate(SENDERS):
        for j, body in enumerate(BODIES):
            params = {
                "MessageSid": f"SM{i:02d}{j:02d}" + "a" * 28,
                "AccountSid": "AC" + "0" * 32,
                "From": sender if j % 2 else f"whatsapp:{sender}",
                "To": "+994502000101",
                "Body": body,
                "FromCity": "BAKU",
                "FromZip": "AZ1000",
            }
            assert signed_post(client, "/twilio/sms", params).status_code == 200


def test_no_raw_number_or_body_in_database_or_logs(
    client: Any, loaded: AppContext, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    send_batch(client)
    needles = [form for sender in SENDERS for form in variants(sender)] + BODIES
    stored = assert_nowhere(loaded, caplog, needles)
    assert contact_id(SENDERS[0], loaded.settings.hash_key) in stored


def test_contact_id_is_keyed_and_stable() -> None:
    a = contact_id("+994501234567", "key-1")
    assert a == contact_id("+994501234567", "key-1")
    assert a == contact_id("+994 50 123 45 67", "key-1")
    assert a != contact_id("+994501234567", "key-2")
    assert a != contact_id("+994501234568", "key-1")


def test_scrub_masks_number_like_strings_but_not_dates_or_addresses() -> None:
    assert scrub("from +994501234567 and +994 50 123 45 67") == "from [number] and [number]"
    assert scrub("whatsapp 994501234567") == "whatsapp [number]"
    kept = "on 2026-11-28 03:37:55 at 127.0.0.1:8123 took 1234 ms"
    assert scrub(kept) == kept
