"""Structured logging that never carries a phone number or a message body."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

from outreach.core.privacy import scrub

_RESERVED = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}
_MAX_DEPTH = 4
_exceptions = logging.Formatter()


class ScrubbingFilter(logging.Filter):
    """Masks phone-number-like strings in every part of a record: the message with its args,
    each structured field (extra=...), and the text of its exception and stack.

    The exception is rendered to text here and the exception object dropped from the record,
    since its arguments (a number-shaped sid, a message quoting a number) are not masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not drop the record (or leak its args)
            message = f"{record.msg} {record.args!r}"
        record.msg, record.args = scrub(message), None
        if record.exc_info:
            if not record.exc_text:
                record.exc_text = _exceptions.formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        for name, value in list(vars(record).items()):
            if name not in _RESERVED:
                setattr(record, name, scrub_value(value))
        return True


def scrub_value(value: Any, depth: int = 0) -> Any:
    """Masks number-like strings in a field value: strings, numbers, and containers of them."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return scrub(value)
    if depth < _MAX_DEPTH and isinstance(value, dict):
        return {scrub_value(k, depth + 1): scrub_value(v, depth + 1) for k, v in value.items()}
    if depth < _MAX_DEPTH and isinstance(value, list | tuple | set | frozenset):
        return type(value)(scrub_value(v, depth + 1) for v in value)
    text = str(value)  # a number, or any other object, as it would be written out
    cleaned = scrub(text)
    return value if cleaned == text else cleaned


class KeyValueFormatter(logging.Formatter):
    """Formats `msg key=value …` from the record's extra fields; the whole line is scrubbed."""

    def format(self, record: logging.LogRecord) -> str:
        base = super().format(record)
        extras = {k: v for k, v in vars(record).items() if k not in _RESERVED}
        if extras:
            pairs = " ".join(
                f"{k}={json.dumps(v, default=str, ensure_ascii=False)}" for k, v in extras.items()
            )
            base = f"{base} {pairs}"
        return scrub(base)


def setup_logging(level: str = "INFO") -> None:
    """Sends logs to stderr as one line each, scrubbed of number-like strings."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(KeyValueFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.addFilter(ScrubbingFilter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, "_outreach", False):
            root.removeHandler(existing)
    handler._outreach = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level.upper())
    for noisy in ("uvicorn.access",):
        logging.getLogger(noisy).addFilter(ScrubbingFilter())


def event(logger: logging.Logger, message: str, **fields: Any) -> None:
    """Logs an info event with structured fields (pass contact ids, never numbers)."""
    logger.info(message, extra=fields)
