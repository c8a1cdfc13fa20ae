"""The API's error bodies, one shape each, as declared in OpenAPI.

- 422: `{"detail": [{"loc": [...], "msg": "...", "type": "..."}]}` (FastAPI's HTTPValidationError)
  for every refused input: request validation, the campaigns validator, and any other 422.
- 400, 401, 403, 404, 409, 413: `{"detail": "a sentence"}`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel

from campaigns.registry.validation import Problem

Loc = Sequence[str | int]


class ErrorMessage(BaseModel):
    """An error that names no field."""

    detail: str


_DESCRIPTIONS = {
    400: "The body cannot be parsed (not UTF-8, or not the declared media type)",
    401: "No valid bearer token or dashboard session",
    403: "Not allowed: managers only, or a cookie write without its CSRF token",
    404: "No such resource",
    409: "Conflicts with an existing resource",
    413: "The request body is too large",
}


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """Declares error statuses of a route or router, each with its body."""
    return {code: {"model": ErrorMessage, "description": _DESCRIPTIONS[code]} for code in codes}


def field_error(loc: Iterable[Any], msg: str, kind: str = "value_error") -> dict[str, Any]:
    """One entry of a 422 body."""
    where = [part if isinstance(part, int | str) else str(part) for part in loc]
    return {"loc": where, "msg": msg, "type": kind}


def invalid(loc: Loc, msg: str) -> RequestValidationError:
    """A 422 for one field, e.g. `raise invalid(("query", "to"), "'to' is before 'from'")`."""
    return RequestValidationError([field_error(loc, msg)])


def invalid_problems(
    problems: Iterable[Problem], *, prefix: Loc = ("body",)
) -> RequestValidationError:
    """A 422 listing the campaigns validator's problems, located in the request."""
    return RequestValidationError([field_error([*prefix, *p.loc], p.message) for p in problems])


def describe(exc: RequestValidationError) -> list[dict[str, Any]]:
    """The body of a 422: each error's location, message and type (never the input)."""
    return [
        field_error(e.get("loc", ()), str(e.get("msg", "")), str(e.get("type", "value_error")))
        for e in exc.errors()
    ]


def message_422(detail: Any) -> list[dict[str, Any]]:
    """The body of a 422 raised as HTTPException(422, "sentence"): one error naming no field."""
    if isinstance(detail, list):
        return detail
    return [field_error((), str(detail))]
