"""The interface languages (az, ru, en) through gettext catalogues, English as the fallback.

The catalogues are the .po files under outreach/web/locale; they are compiled in memory when
the service starts (no .mo file to keep in step). A page is rendered in one language: the
user's choice, else the browser's (Accept-Language), else English. Templates say `_("text")`.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from gettext import NullTranslations
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANGUAGES = ("en", "az", "ru")
LANGUAGE_NAMES = {"en": "English", "az": "Azərbaycanca", "ru": "Русский"}
DEFAULT = "en"
_current: ContextVar[str] = ContextVar("interface_language", default=DEFAULT)


@cache
def translations(language: str) -> NullTranslations:
    """The catalogue of a language (English and unknown languages: the text as written)."""
    path = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    if language == DEFAULT or not path.is_file():
        return NullTranslations()
    with path.open("rb") as po:
        catalog = read_po(po, locale=language)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(fp=compiled)


def gettext(message: str) -> str:
    """Translates into the language of the page being rendered."""
    return translations(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(_current.get()).ngettext(singular, plural, n)


@contextmanager
def speaking(language: str) -> Iterator[None]:
    """Renders what runs inside in one language."""
    token = _current.set(language if language in LANGUAGES else DEFAULT)
    try:
        yield
    finally:
        _current.reset(token)


def choose(user_language: str | None, accept_language: str | None) -> str:
    """The page's language: the user's choice, else the browser's first known one, else English."""
    if user_language in LANGUAGES:
        return str(user_language)
    for part in (accept_language or "").split(",")[:10]:
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return DEFAULT


def N_(message: str) -> str:
    """Marks text shown from a value (a role, a medium, an error title) for the catalogues."""
    return message


# Values that pages show through `_(value)`: listed here so the catalogues hold them.
SHOWN_VALUES = (
    N_("manager"), N_("viewer"), N_("browser"), N_("api"), N_("cli"),
    N_("campaign"), N_("user"), N_("token"), N_("airing"),
    N_("create"), N_("update"), N_("delete"), N_("load"), N_("disable"), N_("enable"),
    N_("reset password"), N_("language"), N_("issue"), N_("revoke"),
    N_("radio"), N_("tv"), N_("flyer"), N_("poster"), N_("sticker"), N_("calendar"),
    N_("newspaper"), N_("web"), N_("other"),
    N_("Not allowed"), N_("Not found"), N_("Changed meanwhile"), N_("Too large"),
    N_("Please correct the form"), N_("Something went wrong"),
    N_("Wrong username or password."),
    N_("Too many failed logins. Try again in %(minutes)s minute(s)."),
    N_("the campaign has errors: see the fields marked"),
    N_("managers only"), N_("you cannot disable yourself"),
)  # fmt: skip
