"""Opt-in, opt-out and SMS commands of the follow-up service."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Connection, select, text

from campaigns.followups.models import (
    Consent,
    ConsentKind,
    Enrollment,
    EnrollmentStatus,
    OutboxStatus,
    Suppression,
)
from campaigns.followups.service import handle_sms_command, is_command_word, opt_in
from campaigns.registry.enums import Attribution, Channel, InteractionKind
from campaigns.registry.models import Interaction
from outreach.core.context import AppContext
from outreach.core.privacy import Address
from tests.support.followups import CAMPAIGN_NUMBER, PERSON, baku, make_campaign, outbox

NOW = baku(2027, 3, 1, 15, 0)


def _opt_in(ctx: AppContext, campaign_id: int, number: str = PERSON, **kw: object) -> object:
    with ctx.sessions.begin() as session:
        return opt_in(
            session,
            ctx,
            campaign_id=campaign_id,
            number=number,
            language="ru",
            channel="voice",
            now=NOW,
            **kw,  # type: ignore[arg-type]
        )


def _command(ctx: AppContext, word: str, *, sender: str = PERSON, now=NOW):  # type: ignore[no-untyped-def]
    with ctx.sessions.begin() as session:
        return handle_sms_command(
            session,
            ctx,
            sender=Address.parse(sender),
            to_number=CAMPAIGN_NUMBER,
            word=word,
            now=now,
        )


def test_opt_in_schedules_every_message_and_seals_the_number(ctx: AppContext) -> None:
    campaign_id = make_campaign(ctx)
    result = _opt_in(ctx, campaign_id)
    assert result.enrolled and result.messages == 3  # type: ignore[attr-defined]
    rows = outbox(ctx)
    assert [r.step for r in rows] == [0, 1, 2]
    assert all(r.status == OutboxStatus.PENDING for r in rows)
    assert rows[0].due_at == NOW
    with ctx.sessions() as session:
        enrollment = session.scalars(select(Enrollment)).one()
        assert enrollment.number_enc and PERSON not in enrollment.number_enc
        assert ctx.vault.open(enrollment.number_enc) == PERSON
        assert enrollment.language == "ru" and enrollment.sender == CAMPAIGN_NUMBER
        consent = session.scalars(select(Consent)).one()
        assert (consent.kind, consent.channel, consent.source) == (
            ConsentKind.OPT_IN,
            "voice",
            "voice_key",
        )
        assert consent.contact_id == ctx.contact_id(PERSON)


def test_opting_in_twice_does_not_schedule_the_series_twice(ctx: AppContext) -> None:
    campaign_id = make_campaign(ctx)
    _opt_in(ctx, campaign_id)
    again = _opt_in(ctx, campaign_id)
    assert not again.enrolled and again.reason == "already"  # type: ignore[attr-defined]
    assert len(outbox(ctx)) == 3


def test_a_campaign_without_a_series_schedules_nothing(ctx: AppContext) -> None:
    campaign_id = make_campaign(
        ctx, followups={"series": [{"id": "x", "messages": [{"text": {"az": "a"}}]}]}
    )
    result = _opt_in(ctx, campaign_id, series_id="missing")
    assert not result.enrolled and result.reason == "no_series"  # type: ignore[attr-defined]


def test_stop_cancels_every_pending_message_suppresses_and_erases_the_number(
    ctx: AppContext,
) -> None:
    campaign_id = make_campaign(ctx)
    make_campaign(ctx, code="FU-OTHER", number="+994502000198")
    _opt_in(ctx, campaign_id)
    result = _command(ctx, "stop")
    assert result is not None and result.kind == InteractionKind.OPT_OUT
    assert "START" in (result.reply or "")
    assert {r.status for r in outbox(ctx)} == {OutboxStatus.CANCELLED}
    with ctx.sessions() as session:
        enrollment = session.scalars(select(Enrollment)).one()
        assert enrollment.status == EnrollmentStatus.CANCELLED and enrollment.number_enc is None
        assert session.get(Suppression, ctx.contact_id(PERSON)) is not None
        kinds = [c.kind for c in session.scalars(select(Consent).order_by(Consent.id))]
        assert kinds == [ConsentKind.OPT_IN, ConsentKind.OPT_OUT]


def test_local_opt_out_words_work_in_any_case_and_script(ctx: AppContext) -> None:
    make_campaign(ctx)
    for word in ("dayandir", "стоп", "unsubscribe"):
        result = _command(ctx, word)
        assert result is not None and result.kind == InteractionKind.OPT_OUT, word


def test_a_suppressed_contact_cannot_be_enrolled_until_start(ctx: AppContext) -> None:
    campaign_id = make_campaign(ctx)
    _command(ctx, "stop")
    assert _opt_in(ctx, campaign_id).reason == "suppressed"  # type: ignore[attr-defined]
    started = _command(ctx, "start")
    assert started is not None and started.kind == InteractionKind.OPT_BACK_IN
    assert _opt_in(ctx, campaign_id).enrolled  # type: ignore[attr-defined]


def test_help_says_who_is_sending_and_how_to_stop(ctx: AppContext) -> None:
    result = _command(ctx, "help")
    assert result is not None and result.kind == InteractionKind.HELP
    assert "STOP" in (result.reply or "")


def test_yes_after_a_keyword_reply_enrols_in_the_offered_series(ctx: AppContext) -> None:
    campaign_id = make_campaign(ctx)
    with ctx.sessions.begin() as session:
        session.add(
            Interaction(
                campaign_id=campaign_id,
                channel=Channel.SMS,
                kind=InteractionKind.KEYWORD,
                attribution=Attribution.KEYWORD,
                number=CAMPAIGN_NUMBER,
                keyword="work",
                language="en",
                contact_id=ctx.contact_id(PERSON),
                created_at=NOW - timedelta(minutes=3),
                external_sid="SM" + "1" * 32,
            )
        )
    result = _command(ctx, "yes")
    assert result is not None and result.kind == InteractionKind.OPT_IN
    assert result.campaign_id == campaign_id and result.language == "en"
    assert len(outbox(ctx)) == 3
    with ctx.sessions() as session:
        assert session.scalars(select(Enrollment.language)).one() == "en"


def test_yes_without_an_offer_is_left_to_keyword_matching(ctx: AppContext) -> None:
    make_campaign(ctx)
    assert _command(ctx, "yes") is None
    assert _command(ctx, "hello") is None
    assert outbox(ctx) == []


def test_yes_to_an_offer_older_than_a_day_enrols_nobody(ctx: AppContext) -> None:
    campaign_id = make_campaign(ctx)
    with ctx.sessions.begin() as session:
        session.add(
            Interaction(
                campaign_id=campaign_id,
                channel=Channel.SMS,
                kind=InteractionKind.KEYWORD,
                attribution=Attribution.KEYWORD,
                number=CAMPAIGN_NUMBER,
                keyword="work",
                language="en",
                contact_id=ctx.contact_id(PERSON),
                created_at=NOW - timedelta(days=2),
                external_sid="SM" + "2" * 32,
            )
        )
    assert _command(ctx, "yes") is None


# Each follow-up table, with a text column the positive control writes the number into.
FOLLOWUP_TABLES = {
    "followup_enrollments": "timezone",
    "followup_outbox": "claim_token",
    "followup_consents": "source",
    "followup_suppressions": "source",
}


def _tables_holding(conn: Connection, needle: str) -> list[str]:
    """Returns the follow-up tables with a row that holds needle anywhere."""
    return [
        table
        for table in FOLLOWUP_TABLES
        if any(
            needle in str(value)
            for row in conn.execute(text(f"SELECT * FROM {table}"))
            for value in row
        )
    ]


def test_no_table_holds_the_number_in_clear(ctx: AppContext) -> None:
    campaign_id = make_campaign(ctx)
    _opt_in(ctx, campaign_id)
    _command(ctx, "stop")
    digits = PERSON.lstrip("+")
    with ctx.engine.connect() as conn:
        assert _tables_holding(conn, digits) == []
        conn.rollback()
        # Positive control: the same scan finds the number once any table holds it in clear
        # (which also shows every table has rows to scan).
        for table, column in FOLLOWUP_TABLES.items():
            conn.execute(text(f"UPDATE {table} SET {column} = :number"), {"number": PERSON})
            assert _tables_holding(conn, digits) == [table]
            conn.rollback()


def test_a_command_word_inside_a_longer_message_is_not_a_command(ctx: AppContext) -> None:
    campaign_id = make_campaign(ctx)
    _opt_in(ctx, campaign_id)
    with ctx.sessions.begin() as session:
        result = handle_sms_command(
            session,
            ctx,
            sender=Address.parse(PERSON),
            to_number=CAMPAIGN_NUMBER,
            word="end",
            now=NOW,
            body="End of my contract?",
        )
        assert result is None
        stopped = handle_sms_command(
            session,
            ctx,
            sender=Address.parse(PERSON),
            to_number=CAMPAIGN_NUMBER,
            word="stop",
            now=NOW,
            body=" Stop! ",
        )
        assert stopped is not None and stopped.kind == InteractionKind.OPT_OUT


COMMANDS = [
    "STOP",
    "stop",
    "Unsubscribe",
    "DAYANDIR",
    "dayandır",
    "СТОП",
    "start",
    "HELP",
    "YES",
    "ДА",
]
NOT_COMMANDS = ["news", "viza", "iş", "STOPS", "help2", "", "???"]


@pytest.mark.parametrize("word", COMMANDS)
def test_every_command_word_is_known_without_the_database(ctx: AppContext, word: str) -> None:
    assert is_command_word(ctx.settings, word, word)
    assert not is_command_word(ctx.settings, word, f"{word} at work?")  # a question, not a command


@pytest.mark.parametrize("word", NOT_COMMANDS)
def test_a_word_that_is_no_command_word_gets_no_command_answer(ctx: AppContext, word: str) -> None:
    # The SMS path skips the savepoint for these: the command handler must agree.
    make_campaign(ctx)
    assert not is_command_word(ctx.settings, word, word)
    assert _command(ctx, word) is None


def test_a_configured_opt_out_word_is_a_command_word(ctx: AppContext) -> None:
    settings = ctx.settings.model_copy(update={"opt_out_words": "BITIR"})
    assert is_command_word(settings, "bitir", "bitir")
    assert not is_command_word(ctx.settings, "bitir", "bitir")
