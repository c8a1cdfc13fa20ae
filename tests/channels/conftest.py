"""A campaign that mixes a Twilio voice number with a Kannel SMS number (short code 8080)."""

from __future__ import annotations

from pathlib import Path

import pytest

from campaigns.registry.service import load_file
from outreach.core.context import AppContext
from tests.support.followups import Clock, baku

KANNEL_NUMBER = "8080"
VOICE_NUMBER = "+994125550101"
HTTP_NUMBER = "+994125550190"
PERSON = "+994501234567"
SECRET = "kannel-secret-0123456789"
HTTP_SECRET = "http-secret-0123456789ab"
# Longer than one UCS-2 SMS (70): goes out as concatenated parts.
REPLY_AZ = "Xaricdə iş təklifi? Yazılı müqavilə, lisenziyalı agentlik, pasport sizdə. Ətraflı: BƏLİ"
FOLLOWUP_AZ = "MİM qaynar xətti: +994125550100, Bakı və Naxçıvan. Pulsuz, anonim. İmtina: STOP"

CAMPAIGNS = f"""
version: 1
organisation:
  name: Migration Information Centre
  languages: [az, ru, en]
channels:
  kannel: ["{KANNEL_NUMBER}"]
  http: ["{HTTP_NUMBER}"]
campaigns:
  - code: AZ-FLYER-KANNEL
    name: Flyer, text İŞ to 8080
    medium: flyer
    languages: [az, ru, en]
    start: 2027-01-01
    end: 2027-12-31
    numbers: ["{KANNEL_NUMBER}", "{VOICE_NUMBER}", "{HTTP_NUMBER}"]
    keywords:
      - {{keyword: "İŞ", language: az}}
      - {{keyword: "РАБОТА", language: ru}}
      - {{keyword: "WORK", language: en}}
    replies:
      az: "{REPLY_AZ}"
      ru: "Работа за рубежом? Договор, лицензия, паспорт у вас. Подробнее: ДА"
      en: "Work abroad? Contract, licensed agency, keep your passport. More: YES"
    followups:
      series:
        - id: info
          offer_keyword_reply: true
          messages:
            - offset: "0"
              text:
                az: "{FOLLOWUP_AZ}"
                ru: "ЦМИ: +994125550100"
                en: "MIC: +994125550100"
"""


@pytest.fixture
def clock() -> Clock:
    return Clock(baku(2027, 2, 1, 12))  # a Monday noon: outside quiet hours


@pytest.fixture
def channels_ctx(ctx: AppContext, tmp_path: Path, clock: Clock) -> AppContext:
    """The context with the mixed campaign loaded, the Kannel and HTTP secrets set."""
    path = tmp_path / "campaigns.yaml"
    path.write_text(CAMPAIGNS)
    with ctx.sessions.begin() as session:
        load_file(session, path)
    ctx.settings = ctx.settings.model_copy(
        update={
            "kannel_secret": SECRET,
            "kannel_password": "sendsms-password",
            "http_channel_secret": HTTP_SECRET,
        }
    )
    ctx.clock = clock
    return ctx
