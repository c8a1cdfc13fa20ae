"""The Jinja2 environment of every server-rendered page (login, dashboard)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates

from outreach.web import i18n

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
templates.env.add_extension("jinja2.ext.i18n")
templates.env.install_gettext_callables(  # type: ignore[attr-defined]
    i18n.gettext, i18n.ngettext, newstyle=True
)
templates.env.globals["LANGUAGE_NAMES"] = i18n.LANGUAGE_NAMES


def page_language(request: Request, user: Any = None) -> str:
    """The language a page is shown in (the user's choice, else the browser's, else English)."""
    return i18n.choose(getattr(user, "language", None), request.headers.get("accept-language"))


def render(
    request: Request, name: str, context: dict[str, Any], *, status_code: int = 200
) -> Response:
    """Renders a page in the language of its user (or of the browser, for the login page)."""
    language = page_language(request, context.get("user"))
    with i18n.speaking(language):
        return templates.TemplateResponse(
            request, name, {**context, "lang": language}, status_code=status_code
        )


def _num(value: Any, digits: int = 0) -> str:
    """Formats a number for a table cell; suppressed cells ("<5") and gaps pass through."""
    if value is None:
        return "–"
    if isinstance(value, str):
        return value
    if isinstance(value, float) and digits:
        return f"{value:,.{digits}f}"
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{value:,}"


def _pct(value: Any) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


def _json(value: Any) -> str:
    """A value as JSON for reading, its letters as they are (not escaped)."""
    return json.dumps(value, ensure_ascii=False, default=str)


templates.env.filters["json"] = _json
templates.env.filters["num"] = _num
templates.env.filters["pct"] = _pct
