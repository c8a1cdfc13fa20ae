"""Retention: old raw rows go, recent ones and reports' numbers stay."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from campaigns.followups.models import (
    Consent,
    ConsentKind,
    Enrollment,
    EnrollmentStatus,
    OutboxMessage,
    OutboxStatus,
    Suppression,
)
from campaigns.registry.models import Campaign, Interaction
from campaigns.reports import rollups, service
from campaigns.reports.filters import ReportFilter
from campaigns.retention.service import purge
from campaigns.retention.tasks import PURGE, purge_once
from campaigns.sms.models import SmsReply
from campaigns.voice.models import Call, CallCallback, CallEvent
from outreach import jobs
from outreach.core.context import AppContext
from outreach.core.scheduling import DailyAt
from tests.support.reports import SEED_END, seed_demo

BAKU = ZoneInfo("Asia/Baku")
NOW = SEED_END + timedelta(days=1)
DAYS = 2  # with NOW: raw rows before 2027-02-22 00:00 Baku go
CUTOFF = datetime(2027, 2, 22, tzinfo=BAKU)
OLD = (date(2027, 2, 10), date(2027, 2, 21))
ALL = (date(2027, 2, 10), date(2027, 2, 23))


def _report(ctx: AppContext, span: tuple[date, date]) -> dict[str, Any]:
    with ctx.sessions.begin() as session:
        return service.report(
            session,
            settings=ctx.settings,
            now=NOW,
            flt=ReportFilter(start=span[0], end=span[1]),
            exact=True,
        )


def _split(ctx: AppContext) -> dict[str, tuple[int, int]]:
    """Counts (before the cutoff, from it on) of each purged kind of raw row."""
    timed = {
        "interactions": (Interaction, Interaction.created_at),
        "calls": (Call, Call.started_at),
        "consents": (Consent, Consent.created_at),
    }
    out: dict[str, tuple[int, int]] = {}
    with ctx.sessions() as session:
        for name, (model, at) in timed.items():
            old = session.scalar(select(func.count()).select_from(model).where(at < CUTOFF))
            new = session.scalar(select(func.count()).select_from(model).where(at >= CUTOFF))
            out[name] = (old or 0, new or 0)
        events = select(func.count()).select_from(CallEvent).join(Call)
        out["call_events"] = (
            session.scalar(events.where(Call.started_at < CUTOFF)) or 0,
            session.scalar(events.where(Call.started_at >= CUTOFF)) or 0,
        )
    return out


def _purge(ctx: AppContext, *, dry_run: bool = False) -> Any:
    with ctx.sessions.begin() as session:
        return purge(session, now=NOW, retention_days=DAYS, zone=BAKU, dry_run=dry_run)


@pytest.fixture
def seeded(loaded: AppContext) -> AppContext:
    seed_demo(loaded, days=4)
    return loaded


def test_purge_deletes_old_raw_rows_and_keeps_recent_ones(seeded: AppContext) -> None:
    before = _split(seeded)
    assert all(old > 0 and new > 0 for old, new in before.values() if old or new)
    assert before["interactions"][0] > 0 and before["calls"][0] > 0
    result = _purge(seeded)
    after = _split(seeded)
    assert result.cutoff == CUTOFF
    gone = {name: old for name, (old, _new) in after.items() if name != "consents"}
    assert gone == dict.fromkeys(gone, 0)
    with seeded.sessions() as session:
        # Old consents stay only as proof for contacts whose series still runs.
        kept = set(session.scalars(select(Consent.contact_id).where(Consent.created_at < CUTOFF)))
        active = session.scalars(
            select(Enrollment.contact_id).where(Enrollment.status == EnrollmentStatus.ACTIVE)
        )
        assert kept <= set(active)
    assert {name: new for name, (_old, new) in after.items()} == {
        name: new for name, (_old, new) in before.items()
    }
    assert result.deleted["interactions"] == before["interactions"][0]
    assert result.deleted["call_events"] == before["call_events"][0]


def test_reports_over_the_purged_range_give_the_same_numbers(seeded: AppContext) -> None:
    old_before, all_before = _report(seeded, OLD), _report(seeded, ALL)
    assert old_before["interactions"]["total"] > 0
    _purge(seeded)
    assert _report(seeded, OLD) == old_before
    assert _report(seeded, ALL) == all_before
    # A refresh later on (a new report) never recounts the purged hours from the empty log.
    with seeded.sessions.begin() as session:
        rollups.refresh(session, zone=BAKU, now=NOW + timedelta(hours=5))
    assert _report(seeded, OLD) == old_before


def test_dry_run_deletes_nothing(seeded: AppContext) -> None:
    before = _split(seeded)
    result = _purge(seeded, dry_run=True)
    assert result.dry_run and result.deleted["interactions"] == before["interactions"][0] > 0
    assert _split(seeded) == before
    with seeded.sessions() as session:
        assert rollups.purged_before(session) is None


def test_suppressions_pending_messages_and_their_consents_survive(loaded: AppContext) -> None:
    long_ago = CUTOFF - timedelta(days=30)
    with loaded.sessions.begin() as session:
        campaign = session.scalars(select(Campaign)).first()
        assert campaign is not None
        session.add(Suppression(contact_id="s" * 64, source="stop", created_at=long_ago))
        enrolment = Enrollment(
            campaign_id=campaign.id,
            series_id="weekly",
            contact_id="p" * 64,
            channel="sms",
            language="az",
            sender="+994502000101",
            timezone="Asia/Baku",
            number_enc="sealed",
            status=EnrollmentStatus.ACTIVE,
            created_at=long_ago,
        )
        session.add(enrolment)
        session.flush()
        session.add(
            OutboxMessage(
                enrollment_id=enrolment.id,
                campaign_id=campaign.id,
                contact_id="p" * 64,
                step=1,
                due_at=long_ago,
                status=OutboxStatus.PENDING,
                updated_at=long_ago,
            )
        )
        for who in ("p", "g"):
            session.add(
                Consent(
                    contact_id=who * 64,
                    campaign_id=campaign.id,
                    kind=ConsentKind.OPT_IN,
                    channel="sms",
                    source="keyword",
                    created_at=long_ago,
                )
            )
    result = _purge(loaded)
    assert result.deleted["followup_consents"] == 1  # only the one with nothing pending
    with loaded.sessions() as session:
        assert session.get(Suppression, "s" * 64) is not None
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 1
        assert session.scalar(select(func.count()).select_from(Enrollment)) == 1
        assert list(session.scalars(select(Consent.contact_id))) == ["p" * 64]


def test_a_rebuild_after_a_purge_is_refused(seeded: AppContext) -> None:
    _purge(seeded)
    with pytest.raises(rollups.PurgedError), seeded.sessions.begin() as session:
        rollups.rebuild(session, zone=BAKU, now=NOW)


def test_the_daily_purge_is_off_without_the_scheduler_or_with_zero_days(
    ctx: AppContext,
) -> None:
    assert jobs.start_in_service(ctx) is None  # the test settings turn the scheduler off
    ctx.settings.scheduler_enabled = True
    ctx.settings.retention_days = 0
    assert PURGE not in {job.name for job in jobs.declared_jobs(ctx.settings)}
    assert purge_once(ctx).cutoff is None
    ctx.settings.retention_days = 400
    [purge_job] = [job for job in jobs.declared_jobs(ctx.settings) if job.name == PURGE]
    assert purge_job.trigger == DailyAt(3, 30, "Asia/Baku")
    stop = jobs.start_in_service(ctx)
    assert stop is not None
    stop()


def test_an_open_callback_survives_and_a_done_one_goes(loaded: AppContext) -> None:
    long_ago = CUTOFF - timedelta(days=30)
    with loaded.sessions.begin() as session:
        for sid, status in (("CA1", "pending"), ("CA2", "placing"), ("CA3", "placed")):
            session.add(
                CallCallback(
                    missed_call_sid=sid,
                    contact_id="c" * 64,
                    from_number="+994125550103",
                    sealed_number=None if status == "placed" else "sealed",
                    status=status,
                    created_at=long_ago,
                )
            )
    _purge(loaded)
    with loaded.sessions() as session:
        kept = sorted(session.scalars(select(CallCallback.status)))
    assert kept == ["pending", "placing"]


def test_an_open_reply_keeps_its_message_and_a_done_one_goes_with_it(seeded: AppContext) -> None:
    with seeded.sessions.begin() as session:
        old = session.scalars(
            select(Interaction.id).where(Interaction.created_at < CUTOFF).limit(3)
        ).all()
        (new,) = session.scalars(
            select(Interaction.id).where(Interaction.created_at >= CUTOFF).limit(1)
        ).all()
        statuses = ("pending", "sending", "sent", "sent")
        for interaction_id, status in zip([*old, new], statuses, strict=True):
            sealed = None if status == "sent" else "sealed"
            session.add(
                SmsReply(
                    interaction_id=interaction_id,
                    gateway="http",
                    contact_id="c" * 64,
                    from_number="+994125550190",
                    sealed_number=sealed,
                    sealed_text=sealed,
                    status=status,
                    due_at=CUTOFF - timedelta(days=5),
                    created_at=CUTOFF - timedelta(days=5),
                )
            )
    result = _purge(seeded)
    assert result.deleted["sms_replies"] == 1
    with seeded.sessions() as session:
        kept = sorted(session.scalars(select(SmsReply.interaction_id)))
        assert kept == sorted([old[0], old[1], new])
        alive = set(session.scalars(select(Interaction.id).where(Interaction.id.in_(old))))
    assert alive == {old[0], old[1]}  # the open replies' messages wait for them
