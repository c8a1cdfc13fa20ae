"""Through the webhooks: no key says "we did not hear a choice", a wrong key says it is wrong."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from outreach.core.context import AppContext
from tests.support.app import PUBLIC_URL
from tests.support.voice import OPEN, RADIO, Caller, record, said, verbs

AZ_AUDIO = f"{PUBLIC_URL}/audio/az"
TOPICS = {
    "az": f"{AZ_AUDIO}/topics.wav",
    "ru": "Законная работа за рубежом: нажмите 1. Договоры и посредники: 2. Визы и документы: 3. "
    "Признаки торговли людьми: 4. Адреса и часы работы центров: 5. "
    "Поговорить с консультантом: 0.",
    "en": "For legal work abroad, press 1. Contracts and recruiters, 2. Visas and documents, 3. "
    "Warning signs of trafficking, 4. Our centres and opening hours, 5. "
    "To speak to a consultant, press 0.",
}
NO_INPUT = {
    "az": f"{AZ_AUDIO}/no_input.wav",
    "ru": "Мы не услышали ваш выбор.",
    "en": "We did not hear a choice.",
}
INVALID = {
    "az": f"{AZ_AUDIO}/invalid.wav",
    "ru": "Такого варианта нет.",
    "en": "That is not one of the choices.",
}


@pytest.fixture
def phone(loaded: AppContext, client: TestClient) -> Iterator[TestClient]:
    loaded.clock = lambda: OPEN
    yield client


@pytest.mark.parametrize(("digit", "language"), [("1", "az"), ("2", "ru"), ("3", "en")])
def test_no_key_and_a_wrong_key_are_told_apart_in_each_language(
    phone: TestClient, loaded: AppContext, digit: str, language: str
) -> None:
    call = Caller(phone, RADIO)
    call.start()
    call.press(digit)
    call.press("")
    assert said(call.twiml) == [NO_INPUT[language], TOPICS[language]]
    assert verbs(call.twiml)[0].tag == "Gather"
    call.press("7")
    assert said(call.twiml) == [INVALID[language], TOPICS[language]]
    _, events = record(loaded, call.sid)
    kinds = [str(e.kind) for e in events if e.node == "topics"]
    assert kinds.count("no_input") == 1 and kinds.count("invalid") == 1


def test_no_key_at_the_language_choice_asks_again_in_every_language(phone: TestClient) -> None:
    call = Caller(phone, RADIO)
    call.start()
    call.press("")
    assert said(call.twiml) == [
        NO_INPUT["az"],
        f"{AZ_AUDIO}/welcome.wav",
        "Здравствуйте! Центр миграционной информации. Для русского языка нажмите 2.",
        "Hello! Migration Information Centre. For English, press 3.",
    ]


def test_no_key_at_the_sms_offer_is_not_called_a_wrong_choice(phone: TestClient) -> None:
    call = Caller(phone, RADIO)
    call.start()
    call.press("3")
    call.press("1")  # legal work abroad
    call.press("3")  # get it by SMS
    call.press("")
    assert said(call.twiml) == [
        "We did not hear a choice.",
        "To receive this information by text message, press 1. Otherwise, press 2.",
    ]
