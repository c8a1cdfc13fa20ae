# ruff: noqa: F811 (the `web` fixture imported from tests.support.reports)
"""The interface in az, ru and en: every text goes through the catalogues, each translated."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient

from outreach.core.context import AppContext
from outreach.web.auth.models import Role
from outreach.web.i18n import LOCALE_DIR, gettext, speaking
from tests.support.app import ROOT
from tests.support.reports import csrf_of, login, make_user, web  # noqa: F401

METHODS = [("web/**.py", "python"), ("web/templates/**.html", "jinja2")]
OPTIONS = {"web/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}


def interface_texts() -> set[str]:
    """Every text the templates and web code mark for translation (singular forms)."""
    found = extract_from_dir(
        str(ROOT / "outreach"), METHODS, keywords=KEYWORDS, options_map=OPTIONS
    )
    return {msg if isinstance(msg, str) else msg[0] for _, _, msg, _, _ in found}


def catalogue(language: str) -> dict[str, object]:
    with Path(LOCALE_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return {(m.id if isinstance(m.id, str) else m.id[0]): m.string for m in read_po(po) if m.id}


@pytest.mark.parametrize("language", ["az", "ru"])
def test_every_interface_text_is_translated(language: str) -> None:
    texts, translated = interface_texts(), catalogue(language)
    assert len(texts) > 150
    missing = sorted(t for t in texts if not translated.get(t))
    assert missing == [], f"run the commands in babel.cfg and translate: {missing}"


def test_unknown_text_falls_back_to_english() -> None:
    with speaking("az"):
        assert gettext("Campaigns") == "Kampaniyalar"
        assert gettext("A text no catalogue has") == "A text no catalogue has"
    with speaking("xx"):
        assert gettext("Campaigns") == "Campaigns"


def test_the_login_page_speaks_the_browsers_language(web: TestClient) -> None:
    page = web.get("/login", headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"})
    assert '<html lang="ru">' in page.text and "Войти" in page.text
    assert "Log in" in web.get("/login", headers={"Accept-Language": "de"}).text


def test_a_user_who_chose_az_gets_the_dashboard_in_az(loaded: AppContext, web: TestClient) -> None:
    make_user(loaded, "aysel", Role.MANAGER)
    login(web, "aysel")
    token = csrf_of(web.get("/dashboard/me").text)
    web.post("/dashboard/me/language", data={"csrf_token": token, "language": "az"})
    page = web.get("/dashboard/manage/campaigns/AZ-FLYER-BAKU-2027")
    assert '<html lang="az">' in page.text
    for text in ("Kampaniyalar", "Açar sözlər", "Yadda saxla", "Dəyişiklik jurnalı"):
        assert text in page.text
