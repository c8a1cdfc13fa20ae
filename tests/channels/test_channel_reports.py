"""A campaign that mixes a Twilio voice number with a Kannel SMS number: reports show both."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from campaigns.registry.service import load_file
from campaigns.reports.filters import ReportFilter
from campaigns.reports.service import report
from outreach.app import create_app
from outreach.core.context import AppContext
from tests.channels.conftest import CAMPAIGNS, KANNEL_NUMBER, PERSON, SECRET, VOICE_NUMBER
from tests.support.app import ROOT
from tests.support.voice import Caller

VOICED = CAMPAIGNS.replace(
    "    followups:\n", "    voice:\n      flow: flows/radio.yaml\n    followups:\n", 1
)


@pytest.fixture
def voiced(channels_ctx: AppContext, tmp_path: Path) -> AppContext:
    shutil.copytree(ROOT / "campaigns" / "demo" / "flows", tmp_path / "flows")
    (tmp_path / "campaigns.yaml").write_text(VOICED)
    with channels_ctx.sessions.begin() as session:
        load_file(session, tmp_path / "campaigns.yaml")
    return channels_ctx


def test_reports_split_sms_by_gateway_and_show_the_twilio_calls(voiced: AppContext) -> None:
    app = create_app(ctx=voiced, migrate=False, start_background=False)
    with TestClient(app, raise_server_exceptions=False) as client:
        for n, text in enumerate(["i%C5%9F", "work"]):  # iş, work
            url = (
                f"/channels/kannel/{SECRET}/mo?from=%2B99450123456{n}&to={KANNEL_NUMBER}"
                f"&text={text}&id=r-{n}"
            )
            assert client.get(url).status_code == 200
        Caller(client, VOICE_NUMBER, caller=PERSON).start()
    result, viewed = (
        report_of(voiced, exact=True),
        report_of(voiced, exact=False),
    )
    gateways = [(g.channel, g.gateway, g.interactions) for g in result.gateways]
    assert gateways == [("sms", "kannel", 2), ("voice", "twilio", 1)]
    assert (result.interactions.sms, result.interactions.voice) == (2, 1)
    # Viewers see the split with small counts hidden, like every other count.
    hidden = [(g.channel, g.gateway, g.interactions) for g in viewed.gateways]
    assert hidden == [("sms", "kannel", "<5"), ("voice", "twilio", "<5")]


def report_of(ctx: AppContext, *, exact: bool) -> Any:
    with ctx.sessions() as session:
        return report(
            session,
            settings=ctx.settings,
            flt=ReportFilter(start=date(2027, 1, 1), end=date(2027, 12, 31)),
            now=ctx.clock() + timedelta(hours=3),
            exact=exact,
        )
