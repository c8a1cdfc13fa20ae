"""OUTREACH_LOG_FORMAT=json: a JSON object a line, each field masked, the request id, no colour."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from asgi_correlation_id import correlation_id

from outreach.core.logs import setup_logging
from outreach.core.settings import Settings
from tests.support.privacy_scan import variants

NUMBER = "+994501234567"


def capture(monkeypatch: pytest.MonkeyPatch, log_format: str) -> Iterator[io.StringIO]:
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    root = logging.getLogger()
    level = root.level
    setup_logging("DEBUG", log_format)
    yield stream
    for handler in list(root.handlers):
        if getattr(handler, "_outreach", False):
            root.removeHandler(handler)
    root.setLevel(level)


@pytest.fixture
def json_stderr(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    yield from capture(monkeypatch, "json")


@pytest.fixture(params=["text", "json"])
def any_stderr(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Iterator[Any]:
    yield from capture(monkeypatch, request.param)


def records(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_each_record_is_one_json_object_a_line(json_stderr: io.StringIO) -> None:
    log = logging.getLogger("outreach.test")
    log.info("first\nsecond line", extra={"campaign_id": 7, "kinds": ["a", "b"]})
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("it failed")
    first, failed = records(json_stderr)
    assert first["message"] == "first\nsecond line"
    assert first["level"] == "INFO" and first["logger"] == "outreach.test" and first["time"]
    assert first["campaign_id"] == 7 and first["kinds"] == ["a", "b"]  # fields stay typed
    assert failed["level"] == "ERROR" and "ValueError: boom" in failed["exc_info"]


def test_every_json_field_is_masked(json_stderr: io.StringIO) -> None:
    log = logging.getLogger("outreach.test")
    try:
        raise ValueError(f"cannot dial {NUMBER}")
    except ValueError:
        log.exception(
            "text from %s",
            NUMBER,
            extra={
                "caller": int(NUMBER[1:]),
                "seen": {"from": "+994 50 123 45 67", "hops": [NUMBER]},
                NUMBER: "a number as a key",
            },
        )
    (record,) = records(json_stderr)
    decoded = json.dumps(record, ensure_ascii=False)
    for leaked in variants(NUMBER):
        assert leaked not in decoded, leaked
    assert record["message"] == "text from [number]"
    assert record["seen"] == {"from": "[number]", "hops": ["[number]"]}
    assert record["caller"] == "[number]"


def test_records_inside_a_request_carry_its_id(json_stderr: io.StringIO) -> None:
    log = logging.getLogger("outreach.test")
    token = correlation_id.set("0f3c2b1a9e8d4c7b")
    try:
        log.info("in a request")
    finally:
        correlation_id.reset(token)
    log.info("outside")
    inside, outside = records(json_stderr)
    assert inside["request_id"] == "0f3c2b1a9e8d4c7b"
    assert "request_id" not in outside


def test_uvicorn_colour_codes_never_reach_the_output(any_stderr: io.StringIO) -> None:
    # uvicorn logs its start lines with a coloured copy of the message in `color_message`.
    logging.getLogger("uvicorn.error").info(
        "Started server process [%d]",
        42,
        extra={"color_message": "Started server process [\x1b[36m%d\x1b[0m]"},
    )
    out = any_stderr.getvalue()
    assert "Started server process [42]" in out
    assert "\x1b" not in out and "\\u001b" not in out and "color_message" not in out


def test_the_format_setting_accepts_text_and_json_only() -> None:
    assert Settings(log_format="JSON").log_format == "json"
    with pytest.raises(ValueError, match="log_format"):
        Settings(log_format="xml")
