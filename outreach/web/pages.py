"""The Jinja2 environment of every server-rendered page (login, dashboard)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.templating import Jinja2Templates

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
templates.env.add_extension("jinja2.ext.i18n")
# Interface strings are written {{ _("...") }}; until catalogues are installed they pass through.
templates.env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]


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


templates.env.filters["num"] = _num
templates.env.filters["pct"] = _pct
