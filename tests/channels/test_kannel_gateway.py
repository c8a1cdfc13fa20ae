"""Kannel end to end: Debian's bearerbox and smsbox on `outreach kannel config`'s output, with
fakesmsc as the operator, in front of the real app on uvicorn."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from campaigns.followups.dispatcher import Dispatcher
from campaigns.followups.models import Enrollment, EnrollmentStatus, OutboxMessage, OutboxStatus
from campaigns.registry.models import Interaction
from outreach.app import create_app
from outreach.core.context import AppContext
from tests.channels.conftest import FOLLOWUP_AZ, KANNEL_NUMBER, PERSON, REPLY_AZ
from tests.support.kannel import (
    KannelPorts,
    fakesmsc,
    generated_config,
    kannel,
    needs_kannel,
    wait_until,
)
from tests.support.privacy_scan import assert_nowhere, variants
from tests.support.server import serve

pytestmark = needs_kannel


@dataclass
class Rig:
    ctx: AppContext
    ports: KannelPorts
    folder: Path
    logs: list[Path]
    config: str

    def mo(self, text: str, sender: str = PERSON) -> str:
        return f"{sender} {KANNEL_NUMBER} text {text}"


@pytest.fixture
def rig(channels_ctx: AppContext, tmp_path: Path) -> Iterator[Rig]:
    ports = KannelPorts.free()
    app = create_app(ctx=channels_ctx, migrate=False, start_background=False)
    with serve(app) as client:
        channels_ctx.settings = channels_ctx.settings.model_copy(
            update={
                "kannel_callback_url": str(client.base_url),
                "kannel_sendsms_url": f"http://127.0.0.1:{ports.sendsms}/cgi-bin/sendsms",
            }
        )
        config = generated_config(channels_ctx.settings, ports, tmp_path)
        with kannel(config, ports, tmp_path) as logs:
            yield Rig(channels_ctx, ports, tmp_path, logs, config)


def interactions(ctx: AppContext) -> list[Interaction]:
    with ctx.sessions() as session:
        return list(session.scalars(select(Interaction).order_by(Interaction.id)))


def test_the_tests_run_the_generated_config(rig: Rig) -> None:
    assert "smsc = fake" in rig.config and f"port = {rig.ports.smsc}" in rig.config
    assert f"{KANNEL_NUMBER}" in rig.config.splitlines()[0]  # the numbers it was written for
    assert "global-sender" not in rig.config.replace("# no global-sender", "")


def test_an_azerbaijani_keyword_gets_the_azerbaijani_reply_intact(rig: Rig) -> None:
    with fakesmsc(rig.ports, [rig.mo("iş")], rig.folder) as smsc:
        (reply,) = smsc.wait_for(1, rig.logs)
    assert reply.text == REPLY_AZ  # byte-exact after decoding UCS-2
    assert reply.text.encode("utf-8") == REPLY_AZ.encode("utf-8")
    assert reply.parts == 2  # 88 characters: two concatenated UCS-2 parts
    assert (reply.sender, reply.receiver) == (KANNEL_NUMBER, PERSON)
    (row,) = interactions(rig.ctx)
    assert (row.kind, row.keyword, row.language, row.number) == ("keyword", "is", "az", "8080")
    assert (row.channel, row.gateway) == ("sms", "kannel")
    assert row.external_sid.startswith("kannel:")


def test_a_russian_text_sent_as_ucs2_by_the_phone_is_matched(rig: Rig) -> None:
    # "работа" as UCS-2, as a handset sends Cyrillic.
    data = "".join(f"%{b:02X}" for b in "работа".encode("utf-16-be"))
    with fakesmsc(rig.ports, [f"{PERSON} {KANNEL_NUMBER} ucs2 {data}"], rig.folder) as smsc:
        (reply,) = smsc.wait_for(1, rig.logs)
    assert reply.text.startswith("Работа за рубежом?")
    assert [(r.keyword, r.language) for r in interactions(rig.ctx)] == [("работа", "ru")]


def test_yes_leads_to_a_followup_through_sendsms_and_a_dlr_marks_it_delivered(
    rig: Rig,
) -> None:
    with fakesmsc(rig.ports, [rig.mo("İŞ")], rig.folder) as smsc:
        smsc.wait_for(1, rig.logs)
    with fakesmsc(rig.ports, [rig.mo("BƏLİ")], rig.folder) as smsc:
        smsc.wait_for(1, rig.logs)  # the opt-in confirmation
        report = Dispatcher(rig.ctx).run_until_idle()
        assert report.sent == 1
        received = smsc.wait_for(2, rig.logs)
        wait_until(lambda: outbox_status(rig.ctx) == OutboxStatus.DELIVERED, "the DLR", rig.logs)
    followup = received[1]
    assert followup.text == FOLLOWUP_AZ
    assert (followup.sender, followup.receiver) == (KANNEL_NUMBER, PERSON)
    with rig.ctx.sessions() as session:
        row = session.scalars(select(OutboxMessage)).one()
        assert row.status == OutboxStatus.DELIVERED
        assert row.message_sid is not None and row.message_sid.startswith("kannel-")


def outbox_status(ctx: AppContext) -> str | None:
    with ctx.sessions() as session:
        return session.scalar(select(OutboxMessage.status))


def test_stop_cancels_everything_for_that_contact(rig: Rig) -> None:
    with fakesmsc(rig.ports, [rig.mo("İŞ")], rig.folder) as smsc:
        smsc.wait_for(1, rig.logs)
    with fakesmsc(rig.ports, [rig.mo("BƏLİ")], rig.folder) as smsc:
        smsc.wait_for(1, rig.logs)
    with fakesmsc(rig.ports, [rig.mo("STOP")], rig.folder) as smsc:
        smsc.wait_for(1, rig.logs)
        assert Dispatcher(rig.ctx).run_until_idle().sent == 0
    with rig.ctx.sessions() as session:
        assert session.scalar(select(Enrollment.status)) == EnrollmentStatus.CANCELLED
        statuses = set(session.scalars(select(OutboxMessage.status)))
        assert statuses == {OutboxStatus.CANCELLED}
    kinds = [r.kind for r in interactions(rig.ctx)]
    assert kinds == ["keyword", "opt_in", "opt_out"]


def test_no_raw_number_or_body_at_rest(rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with fakesmsc(rig.ports, [rig.mo("iş məlumat lazımdır")], rig.folder) as smsc:
        smsc.wait_for(1, rig.logs)
    stored = assert_nowhere(rig.ctx, caplog, [*variants(PERSON), "məlumat"])
    assert rig.ctx.contact_id(PERSON) in stored
    # Kannel's own logs, at the level the generated config sets, keep none either.
    kannel_logs = "".join(p.read_text() for p in rig.logs[:2] if p.exists())
    for needle in [*variants(PERSON)[:2], "məlumat"]:
        assert needle not in kannel_logs


def test_sendsms_reports_queued_without_an_operator_and_the_dlr_comes_later(rig: Rig) -> None:
    with fakesmsc(rig.ports, [rig.mo("İŞ")], rig.folder) as smsc:
        smsc.wait_for(1, rig.logs)
    with fakesmsc(rig.ports, [rig.mo("BƏLİ")], rig.folder) as smsc:
        smsc.wait_for(1, rig.logs)
    assert Dispatcher(rig.ctx).run_until_idle().sent == 1  # queued by bearerbox
    assert outbox_status(rig.ctx) == OutboxStatus.QUEUED  # no operator connected: no DLR yet
    with fakesmsc(rig.ports, [rig.mo("salam")], rig.folder) as smsc:
        texts = [r.text for r in smsc.wait_for(2, rig.logs)]
        wait_until(lambda: outbox_status(rig.ctx) == OutboxStatus.DELIVERED, "the DLR", rig.logs)
    assert FOLLOWUP_AZ in texts
