"""Log masking covers the whole record: message and args, structured fields, tracebacks."""

from __future__ import annotations

import io
import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from outreach.core import logs
from outreach.core.logs import SCRUBBED, setup_logging
from outreach.core.privacy import contact_id
from tests.support.privacy_scan import variants

NUMBER = "+994501234567"


@pytest.fixture
def stderr(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """The service's real logging setup, writing to a captured stderr; removed afterwards."""
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    root = logging.getLogger()
    level = root.level
    setup_logging("DEBUG")
    yield stream
    for handler in list(root.handlers):
        if getattr(handler, "_outreach", False):
            root.removeHandler(handler)
    root.setLevel(level)


def _assert_masked(text: str) -> None:
    for leaked in variants(NUMBER):
        assert leaked not in text, (leaked, text)
    assert "[number]" in text


def test_structured_fields_are_masked(stderr: io.StringIO) -> None:
    log = logging.getLogger("outreach.test")
    log.info(
        "call answered",
        extra={
            "call": NUMBER[1:],  # a number-shaped CallSid
            "sid": "CA" + NUMBER[1:],
            "caller": int(NUMBER[1:]),
            "seen": {"from": "+994 50 123 45 67", "hops": [NUMBER]},
            "duration": 42,
        },
    )
    out = stderr.getvalue()
    _assert_masked(out)
    assert "duration=42" in out and "call answered" in out


def test_arguments_are_masked(stderr: io.StringIO) -> None:
    logging.getLogger("outreach.test").warning("text from %s to %d", NUMBER, 994502000101)
    out = stderr.getvalue()
    _assert_masked(out)
    assert "994502000101" not in out


def test_a_traceback_quoting_a_number_is_masked(stderr: io.StringIO) -> None:
    log = logging.getLogger("outreach.test")

    def dial(number: str) -> None:
        raise ValueError(f"cannot dial {number}")

    try:
        dial(NUMBER)
    except ValueError:
        log.exception("voice webhook failed", extra={"call": "CA" + NUMBER[1:]})
    out = stderr.getvalue()
    _assert_masked(out)
    assert "Traceback (most recent call last)" in out and "ValueError: cannot dial" in out


def test_stack_info_and_broken_format_strings_are_masked(
    stderr: io.StringIO,
) -> None:
    log = logging.getLogger("outreach.test")
    log.info("from %s and %s", NUMBER)  # one argument short
    log.info("where are we", stack_info=True, extra={"n": NUMBER})
    out = stderr.getvalue()
    _assert_masked(out)
    assert "Stack (most recent call last)" in out and "--- Logging error ---" not in out


@contextmanager
def handler_after_ours() -> Iterator[list[logging.LogRecord]]:
    """A handler added after the service's (like an error tracker): the records it gets."""
    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    root = logging.getLogger()
    keep = Keep()
    root.addHandler(keep)
    try:
        yield seen
    finally:
        root.removeHandler(keep)


def test_handlers_after_ours_see_the_masked_record(stderr: io.StringIO) -> None:
    with handler_after_ours() as seen:
        try:
            raise RuntimeError(f"sid {NUMBER[1:]} not found")
        except RuntimeError:
            logging.getLogger("outreach.test").exception("lookup failed", extra={"to": NUMBER})
    (record,) = seen
    _assert_masked(logging.Formatter().format(record) + str(vars(record)))
    assert record.exc_info is None and record.exc_text and "RuntimeError" in record.exc_text


def test_a_record_claiming_to_be_masked_is_masked(stderr: io.StringIO) -> None:
    # The filter marks what it masked so that later passes skip it; a caller's own field of
    # that name is not the mark.
    with handler_after_ours() as seen:
        logging.getLogger("outreach.test").info(
            "text from %s", NUMBER, extra={SCRUBBED: True, "to": NUMBER}
        )
    _assert_masked(stderr.getvalue())
    (record,) = seen
    _assert_masked(record.getMessage() + str(record.to))  # type: ignore[attr-defined]


def test_an_access_log_record_is_masked_once(
    stderr: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    # uvicorn.access has the filter of its own and the handler's: one record, one pass.
    calls: list[str] = []
    real = logs.scrub

    def counting(text: str) -> str:
        calls.append(text)
        return real(text)

    monkeypatch.setattr(logs, "scrub", counting)
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "POST", f"/x?to={NUMBER}", "1.1", 200
    )
    _assert_masked(stderr.getvalue())
    assert len(calls) == 1, calls


def test_a_contact_id_is_logged_whole_and_a_number_beside_it_is_masked(
    stderr: io.StringIO,
) -> None:
    # A contact id (64 hex digits) often holds runs of 9 or more decimal digits; masking
    # them made a contact's lines impossible to find by its id.
    contact = next(
        contact_id(f"+99450123{n:04d}", "key")
        for n in range(10_000)
        if re.search(r"\d{9}", contact_id(f"+99450123{n:04d}", "key"))
    )
    logging.getLogger("outreach.test").info(
        "sms handled %s", NUMBER, extra={"contact": contact, "to": f"{NUMBER[1:]}{contact[:8]}"}
    )
    out = stderr.getvalue()
    _assert_masked(out)
    assert f'contact="{contact}"' in out
