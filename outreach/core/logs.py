"""Structured logging that never carries a phone number or a message body."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

from outreach.core.privacy import ScrubbingFilter

_RESERVED = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}


class KeyValueFormatter(logging.Formatter):
    """Formats `msg key=value …` from the record's extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        base = super().format(record)
        extras = {k: v for k, v in vars(record).items() if k not in _RESERVED}
        if not extras:
            return base
        pairs = " ".join(
            f"{k}={json.dumps(v, default=str, ensure_ascii=False)}" for k, v in extras.items()
        )
        return f"{base} {pairs}"


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
