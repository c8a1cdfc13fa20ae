"""The registry validates every save against the other campaigns; defaults come from settings."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from campaigns.audit.service import Actor, Interface
from campaigns.followups.models import OutboxMessage
from campaigns.registry.models import Campaign
from campaigns.registry.schemas import CampaignSpec
from campaigns.registry.service import (
    InvalidCampaign,
    InvalidCampaignFile,
    load_file,
    save_campaign,
)
from campaigns.registry.validation import validate_file
from outreach.core.context import AppContext
from tests.support.app import DEMO_FILE, signed_post

TEST_ACTOR = Actor("tester", Interface.CLI)
NEWS = "+994502000101"  # shared by AZ-FLYER-BAKU-2027 and AZ-NEWS-XALQ-2027
SPEC: dict[str, Any] = {
    "code": "AZ-CALENDAR-2027",
    "name": "Calendars",
    "medium": "calendar",
    "languages": ["az"],
    "start": "2027-01-01",
    "end": "2027-12-31",
    "numbers": ["+994502000777"],
    "keywords": [{"keyword": "təqvim", "language": "az"}],
    "replies": {"az": "Pulsuz"},
}


def copy_demo(tmp_path: Path) -> Path:
    target = tmp_path / "demo"
    shutil.copytree(DEMO_FILE.parent, target)
    return target / "campaigns.yaml"


def test_save_refuses_a_keyword_another_stored_campaign_owns(loaded: AppContext) -> None:
    spec = CampaignSpec.model_validate(
        {**SPEC, "numbers": [NEWS], "keywords": [{"keyword": "WORK", "language": "az"}]}
    )
    with loaded.sessions() as session, pytest.raises(InvalidCampaign) as refused:
        save_campaign(
            session, spec, flows_root=None, default_timezone="Asia/Baku", actor=TEST_ACTOR
        )
    [problem] = refused.value.problems
    assert problem.loc == ("keywords", 0, "keyword")
    assert "already used by campaign AZ-FLYER-BAKU-2027" in problem.message


def test_a_file_is_checked_against_campaigns_outside_it(loaded: AppContext, tmp_path: Path) -> None:
    with loaded.sessions.begin() as session:
        save_campaign(
            session,
            CampaignSpec.model_validate(SPEC),
            flows_root=None,
            default_timezone="Asia/Baku",
            actor=TEST_ACTOR,
        )
    other = tmp_path / "other.yaml"
    other.write_text(
        "campaigns:\n"
        "  - {code: AZ-OTHER-2027, name: Other, medium: poster, languages: [az],\n"
        "     start: 2027-01-01, end: 2027-02-01, numbers: ['+994502000777'],\n"
        "     keywords: [{keyword: TƏQVİM, language: az}], replies: {az: Salam}}\n",
        encoding="utf-8",
    )
    with loaded.sessions() as session, pytest.raises(InvalidCampaignFile) as refused:
        load_file(session, other)
    assert "campaigns[0].keywords[0].keyword" in refused.value.problems[0]
    assert "already used by campaign AZ-CALENDAR-2027" in refused.value.problems[0]


@pytest.mark.parametrize(
    ("flow", "reason"),
    [
        ("../outside.yaml", "outside the flows folder"),
        ("/etc/passwd", "not an absolute path"),
        ("flows/pipe.yaml", "not a regular file"),
    ],
)
def test_the_yaml_file_follows_the_same_flow_rules(tmp_path: Path, flow: str, reason: str) -> None:
    path = copy_demo(tmp_path)
    shutil.copy(path.parent / "flows" / "radio.yaml", tmp_path / "outside.yaml")
    os.mkfifo(path.parent / "flows" / "pipe.yaml")
    text = path.read_text(encoding="utf-8").replace("flow: flows/hotline.yaml", f"flow: {flow}")
    path.write_text(text.replace("flow: flows/radio.yaml", f"flow: {flow}", 1), encoding="utf-8")
    errors = [str(p) for p in validate_file(path).problems]
    assert any("campaigns[0].voice.flow" in e and reason in e for e in errors), errors
    assert any("hotlines[0].flow" in e and reason in e for e in errors), errors


def test_validate_notes_keywords_that_fold_to_a_common_word() -> None:
    notes = validate_file(DEMO_FILE).notes
    assert any("keyword 'iş' folds to 'is', a common en word" in n for n in notes), notes


def test_campaigns_naming_no_time_zone_get_the_configured_one(ctx: AppContext) -> None:
    with ctx.sessions.begin() as session:
        load_file(session, DEMO_FILE, default_timezone="Europe/London")
    with ctx.sessions() as session:
        zones = set(session.scalars(select(Campaign.timezone)))
    assert zones == {"Europe/London"}


def test_follow_ups_keep_the_configured_zones_quiet_hours(
    ctx: AppContext, client: TestClient
) -> None:
    ctx.settings = ctx.settings.model_copy(update={"default_timezone": "Europe/London"})
    with ctx.sessions.begin() as session:
        load_file(session, DEMO_FILE, default_timezone=ctx.settings.default_timezone)
    ctx.clock = lambda: datetime(2027, 2, 1, 9, 0, tzinfo=UTC)
    sender = "+994501234567"
    for sid, body in (("SM" + "1" * 32, "qəzet"), ("SM" + "2" * 32, "BƏLİ")):
        params = {"MessageSid": sid, "From": sender, "To": NEWS, "Body": body}
        assert signed_post(client, "/twilio/sms", params).status_code == 200
    with ctx.sessions() as session:
        dues = [
            m.due_at for m in session.scalars(select(OutboxMessage).order_by(OutboxMessage.step))
        ]
    assert len(dues) == 3
    # "+2d at 10:00" is 10:00 in London (UTC+0 in February), not 10:00 in Baku (06:00 UTC).
    second = dues[1].replace(tzinfo=dues[1].tzinfo or UTC).astimezone(ZoneInfo("Europe/London"))
    assert (second.date().isoformat(), second.hour) == ("2027-02-03", 10)
