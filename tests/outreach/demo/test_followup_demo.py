"""End to end with the demo campaigns: YES to a keyword, the voice opt-in key, STOP, stats."""

from __future__ import annotations

import json
from xml.etree import ElementTree

from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from campaigns.followups.metrics import followup_stats
from campaigns.followups.models import Enrollment, OutboxStatus
from campaigns.registry.models import Campaign
from outreach.core.context import AppContext
from tests.support.app import signed_post
from tests.support.followups import Clock, baku, dispatch, fake_gateway, outbox
from tests.support.voice import CALLER, RADIO, Caller

NEWS_NUMBER = "+994502000101"
TEXTER = "+994551112233"
NOW = baku(2027, 2, 1, 10, 0)


def text(client: TestClient, body: str, n: int, sender: str = TEXTER) -> str:
    form = {"MessageSid": f"SM{n:032x}", "From": sender, "To": NEWS_NUMBER, "Body": body}
    response = signed_post(client, "/twilio/sms", form)
    assert response.status_code == 200
    message = ElementTree.fromstring(response.text).find("Message")
    return (message.text or "") if message is not None else ""


def test_replying_yes_to_a_demo_keyword_schedules_the_series(
    client: TestClient, loaded: AppContext
) -> None:
    loaded.clock = Clock(NOW)
    assert "Reply YES for more" in text(client, "news", 1)
    reply = text(client, "Yes", 2)
    assert "STOP" in reply
    rows = outbox(loaded)
    assert len(rows) == 3 and rows[0].due_at == NOW
    with loaded.sessions() as session:
        enrollment = session.scalars(select(Enrollment)).one()
        assert enrollment.language == "en" and enrollment.sender == NEWS_NUMBER


def test_azerbaijani_yes_word_enrols_in_azerbaijani(client: TestClient, loaded: AppContext) -> None:
    loaded.clock = Clock(NOW)
    text(client, "qəzet", 1)
    text(client, "Bəli", 2)
    with loaded.sessions() as session:
        assert session.scalars(select(Enrollment.language)).one() == "az"


def test_pressing_the_opt_in_key_in_a_demo_call_schedules_the_series(
    client: TestClient, loaded: AppContext
) -> None:
    loaded.clock = Clock(NOW)
    http = fake_gateway(loaded)
    call = Caller(client, RADIO)
    call.start()
    call.press("3")  # English
    call.press("5")  # MIC locations
    call.press("3")  # get it by SMS
    call.press("1")  # yes
    rows = outbox(loaded)
    assert len(rows) == 3
    dispatch(loaded)
    assert http.requests[0].data["Body"].startswith("MIC hotline +994125550100")
    assert http.requests[0].data["From"] == RADIO


def test_stop_by_sms_cancels_the_rest_and_nothing_more_is_sent(
    client: TestClient, loaded: AppContext
) -> None:
    clock = Clock(NOW)
    loaded.clock = clock
    http = fake_gateway(loaded)
    text(client, "news", 1)
    text(client, "YES", 2)
    dispatch(loaded)
    assert "START" in text(client, "STOP", 3)
    clock.now = baku(2027, 3, 1, 10, 0)
    dispatch(loaded)
    assert len(http.requests) == 1
    assert [r.status for r in outbox(loaded)] == [OutboxStatus.QUEUED] + [
        OutboxStatus.CANCELLED
    ] * 2
    text(client, "news", 4)  # a later YES does not reach a suppressed contact...
    assert text(client, "YES", 5)  # ...unless it is a new explicit consent, which lifts STOP
    with loaded.sessions() as session:
        code = session.scalar(select(Campaign.id).where(Campaign.code == "AZ-NEWS-XALQ-2027"))
        (stats,) = followup_stats(session, campaign_id=code)
    assert (stats.opt_ins, stats.opt_outs, stats.sent, stats.cancelled) == (2, 1, 1, 2)


def test_stats_command_prints_per_campaign_numbers(client: TestClient, loaded: AppContext) -> None:
    from outreach.cli import app

    loaded.clock = Clock(NOW)
    text(client, "news", 1)
    text(client, "YES", 2)
    settings = loaded.settings
    env = {
        "OUTREACH_DATABASE_URL": settings.database_url,
        "OUTREACH_HASH_KEY": settings.hash_key,
        "OUTREACH_ENCRYPTION_KEY": settings.encryption_key,
        "OUTREACH_SESSION_SECRET": settings.session_secret,
        "TWILIO_AUTH_TOKEN": settings.twilio_auth_token,
    }
    result = CliRunner().invoke(app, ["followups", "stats", "--json"], env=env)
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in result.stdout.splitlines() if x.startswith("{")]
    assert [(r["campaign_code"], r["opt_ins"], r["scheduled"]) for r in lines] == [
        ("AZ-NEWS-XALQ-2027", 1, 3)
    ]
    table = CliRunner().invoke(app, ["followups", "stats"], env=env)
    assert table.exit_code == 0 and "AZ-NEWS-XALQ-2027" in table.stdout


def test_a_caller_who_said_stop_is_not_enrolled_by_the_voice_key(
    client: TestClient, loaded: AppContext
) -> None:
    loaded.clock = Clock(NOW)
    text(client, "STOP", 1, sender=CALLER)
    call = Caller(client, RADIO)
    call.start()
    call.press("3")
    call.press("5")
    answer = call.press("3")  # would be "get it by SMS": the STOP means it is not offered
    assert "To receive this information by text message" not in answer
    assert call.ended
    assert outbox(loaded) == []
