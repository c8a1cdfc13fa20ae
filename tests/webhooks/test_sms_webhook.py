"""POST /twilio/sms through the real app with signed requests."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode
from xml.etree import ElementTree

import pytest
from sqlalchemy import func, select

from campaigns.registry.enums import Attribution, Channel, InteractionKind
from campaigns.registry.models import Campaign, Interaction
from outreach.core.context import AppContext
from tests.support.app import sign, signed_post
from tests.support.database import statements

FLYER = "+994502000101"
POSTER = "+994365440101"
SENDER = "+994501234567"


def sms(
    body: str, *, to: str = FLYER, sid: str = "SM" + "1" * 32, sender: str = SENDER
) -> dict[str, str]:
    return {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": "AC" + "0" * 32,
        "From": sender,
        "To": to,
        "Body": body,
        "NumMedia": "0",
        "SmsStatus": "received",
        "ApiVersion": "2010-04-01",
        "FromCountry": "AZ",
        "FromCity": "BAKU",
    }


def reply_of(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    root = ElementTree.fromstring(response.text)
    assert root.tag == "Response"
    return [m.text or "" for m in root.iter("Message")]


def interactions(ctx: AppContext) -> list[Interaction]:
    with ctx.sessions() as session:
        return list(session.scalars(select(Interaction).order_by(Interaction.id)))


def campaign_id(ctx: AppContext, code: str) -> int:
    with ctx.sessions() as session:
        found = session.scalar(select(Campaign.id).where(Campaign.code == code))
        assert found is not None
        return found


def test_signed_keyword_gets_the_flyer_campaign_azerbaijani_reply(
    client: Any, loaded: AppContext
) -> None:
    replies = reply_of(signed_post(client, "/twilio/sms", sms("iş")))
    assert replies == ["Xaricdə iş? Müqavilə, viza, agentliyi yoxlayın. Pulsuz: +994125550100"]
    [row] = interactions(loaded)
    assert row.campaign_id == campaign_id(loaded, "AZ-FLYER-BAKU-2027")
    assert (row.channel, row.kind, row.attribution) == (
        Channel.SMS,
        InteractionKind.KEYWORD,
        Attribution.KEYWORD,
    )
    assert (row.keyword, row.language, row.number, row.country) == ("is", "az", FLYER, "AZ")
    assert row.contact_id == loaded.contact_id(SENDER) and len(row.contact_id) == 64


@pytest.mark.parametrize("body", ["İş", "is", "IS!", " iş ", "iş haqqında"])
def test_keyword_variants_all_get_the_same_reply(
    client: Any, loaded: AppContext, body: str
) -> None:
    assert reply_of(signed_post(client, "/twilio/sms", sms(body)))[0].startswith("Xaricdə iş?")


def test_russian_keyword_gets_the_russian_reply(client: Any, loaded: AppContext) -> None:
    assert reply_of(signed_post(client, "/twilio/sms", sms("РАБОТА")))[0].startswith(
        "Работа за рубежом"
    )


def test_shared_number_attributes_by_keyword(client: Any, loaded: AppContext) -> None:
    reply_of(signed_post(client, "/twilio/sms", sms("qezet", sid="SM" + "2" * 32)))
    [row] = interactions(loaded)
    assert row.campaign_id == campaign_id(loaded, "AZ-NEWS-XALQ-2027")


def test_unsigned_request_is_refused_and_not_recorded(client: Any, loaded: AppContext) -> None:
    response = client.post("/twilio/sms", data=sms("iş"))
    assert response.status_code == 403
    assert "X-Twilio-Signature" in response.json()["detail"]
    assert interactions(loaded) == []


def test_wrong_signature_is_refused(client: Any, loaded: AppContext) -> None:
    params = sms("iş")
    response = client.post("/twilio/sms", data=params, headers={"X-Twilio-Signature": "bm90LWl0"})
    assert response.status_code == 403
    assert interactions(loaded) == []


def test_signature_over_other_fields_is_refused(client: Any, loaded: AppContext) -> None:
    signature = sign("/twilio/sms", sms("iş"))
    response = client.post(
        "/twilio/sms", data=sms("work"), headers={"X-Twilio-Signature": signature}
    )
    assert response.status_code == 403


def test_retried_message_sid_is_counted_once_with_the_same_answer(
    client: Any, loaded: AppContext
) -> None:
    first = reply_of(signed_post(client, "/twilio/sms", sms("iş")))
    second = reply_of(signed_post(client, "/twilio/sms", sms("iş")))
    assert first == second
    assert len(interactions(loaded)) == 1


def test_a_new_keyword_text_is_one_insert_and_no_lookup_of_its_sid(
    client: Any, loaded: AppContext
) -> None:
    # Its insert (ON CONFLICT DO NOTHING) finds a copy; a read before it would be wasted.
    with statements(loaded.engine) as new_message:
        first = reply_of(signed_post(client, "/twilio/sms", sms("iş")))
    with statements(loaded.engine) as copy:
        again = reply_of(signed_post(client, "/twilio/sms", sms("iş")))
    touching = [s for s in new_message if "interactions" in s]
    assert len(touching) == 1 and touching[0].startswith("INSERT INTO interactions"), touching
    # The copy's insert inserts nothing; then its first answer is read and given again.
    assert [s.split()[0] for s in copy if "interactions" in s] == ["INSERT", "SELECT"]
    assert again == first and len(interactions(loaded)) == 1


def test_a_retried_stop_is_looked_up_before_anything_is_done_again(
    client: Any, loaded: AppContext
) -> None:
    first = reply_of(signed_post(client, "/twilio/sms", sms("STOP", sid="SM" + "5" * 32)))
    with statements(loaded.engine) as sent:
        again = reply_of(signed_post(client, "/twilio/sms", sms("STOP", sid="SM" + "5" * 32)))
    assert again == first and len(interactions(loaded)) == 1
    writes = [s for s in sent if s.split()[0] in ("INSERT", "UPDATE", "DELETE")]
    assert writes == [], writes


def test_unknown_word_gets_a_helpful_default_reply_and_is_unattributed(
    client: Any, loaded: AppContext
) -> None:
    [text] = reply_of(signed_post(client, "/twilio/sms", sms("salam, kömək lazımdır")))
    assert "İŞ" in text and "QƏZET" in text and "+994125550100" in text
    [row] = interactions(loaded)
    assert (row.campaign_id, row.kind, row.attribution, row.number) == (
        None,
        InteractionKind.UNMATCHED,
        Attribution.NONE,
        FLYER,
    )


def test_default_reply_follows_the_script_of_the_message(client: Any, loaded: AppContext) -> None:
    [text] = reply_of(signed_post(client, "/twilio/sms", sms("привет")))
    assert text.startswith("Бесплатная") and "РАБОТА" in text


def test_keyword_of_another_number_does_not_match(client: Any, loaded: AppContext) -> None:
    [text] = reply_of(signed_post(client, "/twilio/sms", sms("viza", to=FLYER)))
    assert not text.startswith("Viza")
    assert interactions(loaded)[0].campaign_id is None


def test_whatsapp_sender_is_served_by_the_same_endpoint(client: Any, loaded: AppContext) -> None:
    params = sms("work", sender=f"whatsapp:{SENDER}", to=f"whatsapp:{FLYER}")
    params.update({"ProfileName": "Aysel", "WaId": SENDER.lstrip("+")})
    [text] = reply_of(signed_post(client, "/twilio/sms", params))
    assert text.startswith("Work abroad?")
    [row] = interactions(loaded)
    assert row.channel == Channel.WHATSAPP and row.number == FLYER
    assert row.contact_id == loaded.contact_id(SENDER)


def test_unknown_to_number_gets_a_polite_reply(client: Any, loaded: AppContext) -> None:
    [text] = reply_of(signed_post(client, "/twilio/sms", sms("iş", to="+994125559999")))
    assert "+994125550100" in text
    assert interactions(loaded)[0].campaign_id is None


@pytest.mark.parametrize(
    "body",
    ["", "😀🎉🙏", "\u202e\u200b\ufeff", "Z̤̥̈͂a̡͎l͇g̰o", "x" * 10_000, "iş" + " ş" * 5000, "\x00\x01"],
)
def test_odd_bodies_get_valid_twiml(client: Any, loaded: AppContext, body: str) -> None:
    replies = reply_of(signed_post(client, "/twilio/sms", sms(body)))
    assert len(replies) == 1 and replies[0]
    assert len(interactions(loaded)) == 1


@pytest.mark.parametrize("missing", ["MessageSid", "From", "To"])
def test_missing_fields_get_a_clear_400(client: Any, loaded: AppContext, missing: str) -> None:
    params = sms("iş")
    del params[missing]
    response = signed_post(client, "/twilio/sms", params)
    assert response.status_code == 400
    assert missing in response.json()["detail"]
    assert interactions(loaded) == []


def test_empty_form_gets_a_clear_400(client: Any, loaded: AppContext) -> None:
    response = signed_post(client, "/twilio/sms", {})
    assert response.status_code == 400


def test_malformed_body_with_a_valid_signature_gets_a_400(client: Any, loaded: AppContext) -> None:
    # A multipart body without its boundary cannot be parsed; the signature is Twilio's for
    # an empty form, so only the parse can refuse it.
    response = client.post(
        "/twilio/sms",
        content=b"MessageSid=SM1&From=%2B994501234567",
        headers={
            "Content-Type": "multipart/form-data",
            "X-Twilio-Signature": sign("/twilio/sms", {}),
        },
    )
    assert response.status_code == 400
    assert response.json()["detail"] == "body is not a valid form"
    assert interactions(loaded) == []


def test_too_many_fields_with_a_valid_signature_gets_a_400(client: Any, loaded: AppContext) -> None:
    params = sms("iş") | {f"Extra{i}": "x" for i in range(1000)}
    response = signed_post(client, "/twilio/sms", params)
    assert response.status_code == 400
    assert response.json()["detail"] == "body is not a valid form"
    assert interactions(loaded) == []


def test_oversized_body_with_a_valid_signature_gets_a_413(client: Any, loaded: AppContext) -> None:
    params = sms("iş " * 30_000)
    assert len(urlencode(params)) > loaded.settings.body_limit_twilio
    response = signed_post(client, "/twilio/sms", params)
    assert response.status_code == 413
    assert interactions(loaded) == []


def test_unknown_extra_fields_are_accepted(client: Any, loaded: AppContext) -> None:
    params = sms("iş")
    params["SomeFieldTwilioAddsLater"] = "value"
    assert reply_of(signed_post(client, "/twilio/sms", params))[0].startswith("Xaricdə")


def test_database_failure_still_gets_a_twiml_apology(
    client: Any,
    loaded: AppContext,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("database is gone")

    monkeypatch.setattr("webhooks.sms.handle_inbound_sms", broken)
    [text] = reply_of(signed_post(client, "/twilio/sms", sms("iş", sid="SM" + "9" * 32)))
    assert "Sorry" in text
    assert any("sms webhook failed" in r.getMessage() for r in caplog.records)


def test_database_failure_after_recording_loses_nothing_recorded(
    client: Any, loaded: AppContext
) -> None:
    reply_of(signed_post(client, "/twilio/sms", sms("iş", sid="SM" + "3" * 32)))
    loaded.engine.dispose()
    with loaded.engine.begin() as conn:
        # Keywords come from the registry cache; its token is read from the database each time.
        conn.exec_driver_sql("DROP TABLE registry_version")
    [text] = reply_of(signed_post(client, "/twilio/sms", sms("iş", sid="SM" + "4" * 32)))
    assert "Sorry" in text
    with loaded.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Interaction)) == 1


def test_development_flag_skips_the_check_and_warns(
    loaded: AppContext, caplog: pytest.LogCaptureFixture
) -> None:
    from fastapi.testclient import TestClient

    from outreach.app import create_app

    dev_ctx = AppContext(
        settings=loaded.settings.model_copy(update={"insecure_skip_signature": True}),
        engine=loaded.engine,
        sessions=loaded.sessions,
    )
    with caplog.at_level("WARNING"):
        app = create_app(ctx=dev_ctx, migrate=False, start_background=False)
    assert any("NOT checked" in r.getMessage() for r in caplog.records)
    with TestClient(app) as dev_client:
        assert reply_of(dev_client.post("/twilio/sms", data=sms("iş")))[0].startswith("Xaricdə")


def test_signature_covers_the_query_string(client: Any, loaded: AppContext) -> None:
    params = sms("iş")
    signature = sign("/twilio/sms", params)
    response = client.post(
        "/twilio/sms?x=1", data=params, headers={"X-Twilio-Signature": signature}
    )
    assert response.status_code == 403
    good = sign("/twilio/sms?x=1", params)
    response = client.post("/twilio/sms?x=1", data=params, headers={"X-Twilio-Signature": good})
    assert response.status_code == 200
