"""Structured logging that never carries a phone number or a message body."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

from asgi_correlation_id import correlation_id
from pythonjsonlogger.json import JsonFormatter

from outreach.core.privacy import scrub

# Set on a record once ScrubbingFilter has masked it: a second pass (the uvicorn.access
# logger's filter, then the handler's; the formatter's whole-line scrub) has nothing left.
# The value is this module's own object, so `extra={SCRUBBED: True}` cannot skip the mask.
SCRUBBED = "_outreach_scrubbed"
_MASKED = object()
_RESERVED = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime", SCRUBBED}
_MAX_DEPTH = 4
_exceptions = logging.Formatter()
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
# The JSON object's first keys; the record's extra fields follow them.
JSON_FIELDS = ("asctime", "levelname", "name", "message")
JSON_RENAME = {"asctime": "time", "levelname": "level", "name": "logger"}


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to records logged while a request is served (asgi-correlation-id),
    and drops uvicorn's `color_message` field (the message again, with ANSI colour codes)."""

    def filter(self, record: logging.LogRecord) -> bool:
        vars(record).pop("color_message", None)
        request_id = correlation_id.get()
        if request_id and not hasattr(record, "request_id"):
            record.request_id = request_id
        return True


class ScrubbingFilter(logging.Filter):
    """Masks phone-number-like strings in every part of a record: the message with its args,
    each structured field (extra=...), and the text of its exception and stack.

    The exception is rendered to text here and the exception object dropped from the record,
    since its arguments (a number-shaped sid, a message quoting a number) are not masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, SCRUBBED, None) is _MASKED:
            return True
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
        setattr(record, SCRUBBED, _MASKED)
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
    """Formats `msg key=value …` from the record's extra fields; the whole line is scrubbed
    unless ScrubbingFilter already masked every part of it (message, fields, exception)."""

    def format(self, record: logging.LogRecord) -> str:
        base = super().format(record)
        extras = {k: v for k, v in vars(record).items() if k not in _RESERVED}
        if extras:
            pairs = " ".join(
                f"{k}={json.dumps(v, default=str, ensure_ascii=False)}" for k, v in extras.items()
            )
            base = f"{base} {pairs}"
        return base if getattr(record, SCRUBBED, None) is _MASKED else scrub(base)


class ScrubbingJsonFormatter(JsonFormatter):
    """One JSON object a line (python-json-logger); every value is masked once more here."""

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        return {scrub(key): scrub_value(value) for key, value in log_data.items()}


def make_formatter(log_format: str = "text") -> logging.Formatter:
    """The formatter of OUTREACH_LOG_FORMAT: `text` (key=value) or `json`. Neither colours."""
    if log_format == "json":
        return ScrubbingJsonFormatter(
            list(JSON_FIELDS), rename_fields=JSON_RENAME, json_ensure_ascii=False
        )
    return KeyValueFormatter(TEXT_FORMAT)


def setup_logging(level: str = "INFO", log_format: str = "text") -> None:
    """Sends logs to stderr as one line each (text or JSON), scrubbed of number-like strings.

    uvicorn's loggers (its access log included) propagate to this handler, so they share its
    format: no ANSI colours whether or not stderr is a terminal.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(make_formatter(log_format))
    handler.addFilter(RequestIdFilter())
    handler.addFilter(ScrubbingFilter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, "_outreach", False):
            root.removeHandler(existing)
    handler._outreach = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()  # uvicorn's own (coloured) handlers, if it set them
        uvicorn_logger.propagate = True
        # OUTREACH_LOG_LEVEL decides: a level uvicorn's Config set earlier in this process
        # (an embedded server started with log_level="warning") would hide its start lines.
        uvicorn_logger.setLevel(logging.NOTSET)
    logging.getLogger("uvicorn.access").addFilter(ScrubbingFilter())


def event(logger: logging.Logger, message: str, **fields: Any) -> None:
    """Logs an info event with structured fields (pass contact ids, never numbers)."""
    logger.info(message, extra=fields)
