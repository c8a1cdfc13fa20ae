"""The Kannel endpoints as smsbox calls them: secret, allow-list, bad input, retries, copies."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from campaigns.followups.models import Enrollment, OutboxMessage, Suppression
from campaigns.registry.models import Interaction
from outreach.app import create_app
from outreach.core.context import AppContext
from tests.channels.conftest import KANNEL_NUMBER, PERSON, REPLY_AZ, SECRET, VOICE_NUMBER
from tests.support.server import serve

MO = f"/channels/kannel/{SECRET}/mo"
COPIES = 20


@pytest.fixture
def kclient(channels_ctx: AppContext) -> Any:
    app = create_app(ctx=channels_ctx, migrate=False, start_background=False)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def query(**fields: str) -> str:
    """A get-url query as smsbox writes it (%a etc. percent-encoded UTF-8)."""
    return "&".join(f"{k}={quote(v, safe='')}" for k, v in fields.items())


def mo(text: str = "iş", *, id_: str = "6c1f0f4e-1", sender: str = PERSON, **extra: str) -> str:
    fields = {"from": sender, "to": KANNEL_NUMBER, "text": text, "id": id_, "charset": "UTF-8"}
    fields.update(extra)
    return f"{MO}?{query(**fields)}"


def count(ctx: AppContext, model: type) -> int:
    with ctx.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def nothing_recorded(ctx: AppContext) -> bool:
    return all(count(ctx, m) == 0 for m in (Interaction, Enrollment, OutboxMessage, Suppression))


def test_a_non_gsm_reply_is_ucs2_with_kannel_coding_2(kclient: Any) -> None:
    response = kclient.get(mo("iş"))
    assert response.status_code == 200
    assert response.headers["x-kannel-coding"] == "2"
    assert response.headers["content-type"] == "text/plain; charset=UTF-16BE"
    assert response.content == REPLY_AZ.encode("utf-16-be")


def test_a_gsm_reply_is_plain_utf8(kclient: Any) -> None:
    response = kclient.get(mo("work"))
    assert response.headers["x-kannel-coding"] == "0"
    assert response.content.decode("utf-8").startswith("Work abroad?")


def test_post_url_carries_the_text_as_the_body(kclient: Any, channels_ctx: AppContext) -> None:
    url = f"{MO}?{query(**{'from': PERSON, 'to': KANNEL_NUMBER, 'id': 'post-1'})}"
    body = "работа".encode("utf-16-be")
    headers = {"Content-Type": "text/plain; charset=UTF-16BE"}
    response = kclient.post(url, content=body, headers=headers)
    assert response.status_code == 200
    assert response.content.decode("utf-16-be").startswith("Работа за рубежом?")


def test_the_same_kannel_id_is_counted_once(kclient: Any, channels_ctx: AppContext) -> None:
    first = kclient.get(mo("iş", id_="same-id"))
    again = kclient.get(mo("iş", id_="same-id"))
    assert first.content == again.content == REPLY_AZ.encode("utf-16-be")
    assert count(channels_ctx, Interaction) == 1
    kclient.get(mo("iş", id_="other-id"))
    assert count(channels_ctx, Interaction) == 2


@pytest.mark.parametrize(
    ("url", "status"),
    [
        (f"/channels/kannel/wrong-secret-0123456789/mo?{query(to=KANNEL_NUMBER)}", 403),
        (f"/channels/kannel/{SECRET[:-1]}/mo?{query(to=KANNEL_NUMBER)}", 403),
        (mo(id_=""), 400),
        (mo(sender=""), 400),
        (f"{MO}?{query(**{'from': PERSON, 'to': KANNEL_NUMBER, 'id': 'x'})}", 400),  # no text
        (f"{MO}?{query(**{'from': PERSON, 'text': 'iş', 'id': 'x'})}", 400),  # no receiver
        (mo(charset="NO-SUCH-CHARSET"), 400),
        (mo(id_="x" * 300), 400),
        (f"{MO}?{query(**{'from': PERSON, 'to': '9999', 'text': 'iş', 'id': 'x'})}", 404),
        # A Twilio number is not reached through Kannel.
        (f"{MO}?{query(**{'from': PERSON, 'to': VOICE_NUMBER, 'text': 'iş', 'id': 'x'})}", 404),
    ],
)
def test_bad_input_is_a_4xx_and_nothing_is_recorded(
    kclient: Any, channels_ctx: AppContext, url: str, status: int
) -> None:
    response = kclient.get(url)
    assert response.status_code == status, response.text
    assert nothing_recorded(channels_ctx)


def test_bad_utf8_is_a_400(kclient: Any, channels_ctx: AppContext) -> None:
    url = mo().replace("text=i%C5%9F", "text=i%C5")
    assert kclient.get(url).status_code == 400
    assert nothing_recorded(channels_ctx)


def test_without_a_configured_secret_everything_is_refused(
    kclient: Any, channels_ctx: AppContext
) -> None:
    channels_ctx.settings = channels_ctx.settings.model_copy(update={"kannel_secret": ""})
    assert kclient.get(mo().replace(SECRET, "")).status_code in (403, 404)
    assert kclient.get(mo()).status_code == 403
    assert nothing_recorded(channels_ctx)


def test_the_allow_list_refuses_other_addresses(channels_ctx: AppContext) -> None:
    app = create_app(ctx=channels_ctx, migrate=False, start_background=False)
    with serve(app) as client:  # calls come from 127.0.0.1
        channels_ctx.settings = channels_ctx.settings.model_copy(
            update={"kannel_allow_ips": "10.1.2.0/24"}
        )
        assert client.get(mo()).status_code == 403
        assert nothing_recorded(channels_ctx)
        channels_ctx.settings = channels_ctx.settings.model_copy(
            update={"kannel_allow_ips": "10.1.2.0/24, 127.0.0.1"}
        )
        assert client.get(mo()).status_code == 200


def test_copies_of_one_mo_at_once_are_counted_once(channels_ctx: AppContext) -> None:
    app = create_app(ctx=channels_ctx, migrate=False, start_background=False)
    with serve(app) as client:
        barrier = threading.Barrier(COPIES)

        def get(_n: int) -> httpx.Response:
            barrier.wait(timeout=20)
            return client.get(mo("iş", id_="copy-1"))

        with ThreadPoolExecutor(max_workers=COPIES) as pool:
            responses = list(pool.map(get, range(COPIES)))
    assert [r.status_code for r in responses] == [200] * COPIES
    assert {r.content for r in responses} == {REPLY_AZ.encode("utf-16-be")}
    assert count(channels_ctx, Interaction) == 1


def test_copies_of_one_yes_enrol_once(channels_ctx: AppContext) -> None:
    app = create_app(ctx=channels_ctx, migrate=False, start_background=False)
    with serve(app) as client:
        assert client.get(mo("iş", id_="offer")).status_code == 200
        barrier = threading.Barrier(COPIES)

        def get(n: int) -> httpx.Response:
            barrier.wait(timeout=20)
            return client.get(mo("BƏLİ", id_=f"yes-{n % 2}"))  # two ids: a retry and a twin

        with ThreadPoolExecutor(max_workers=COPIES) as pool:
            responses = list(pool.map(get, range(COPIES)))
    assert all(r.status_code == 200 for r in responses)
    assert count(channels_ctx, Interaction) == 3
    assert count(channels_ctx, Enrollment) == 1
    assert count(channels_ctx, OutboxMessage) == 1


DLR = f"/channels/kannel/{SECRET}/dlr"


def sent_followup(kclient: Any, channels_ctx: AppContext) -> OutboxMessage:
    """Enrols PERSON by İŞ then BƏLİ and marks the follow-up sent as Kannel message `k-1`."""
    kclient.get(mo("iş", id_="offer"))
    kclient.get(mo("BƏLİ", id_="yes"))
    with channels_ctx.sessions.begin() as session:
        row = session.scalars(select(OutboxMessage)).one()
        row.status, row.message_sid = "queued", "kannel-k-1"
        session.flush()
        session.expunge(row)
        return row


@pytest.mark.parametrize(("dlr", "status"), [("1", "delivered"), ("2", "undelivered")])
def test_a_dlr_records_delivered_or_failed(
    kclient: Any, channels_ctx: AppContext, dlr: str, status: str
) -> None:
    row = sent_followup(kclient, channels_ctx)
    response = kclient.get(f"{DLR}?o={row.id}&s=kannel-k-1&status={dlr}")
    assert response.status_code == 200
    with channels_ctx.sessions() as session:
        assert session.get(OutboxMessage, row.id).status == status  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "query_text",
    ["s=kannel-k-1&status=99", "s=kannel-k-1&status=", "status=1", "s=kannel-k-1&status=%C2%B9"],
)
def test_a_bad_dlr_is_a_400_and_changes_nothing(
    kclient: Any, channels_ctx: AppContext, query_text: str
) -> None:
    row = sent_followup(kclient, channels_ctx)
    assert kclient.get(f"{DLR}?o={row.id}&{query_text}").status_code == 400
    assert kclient.get(f"{DLR.replace(SECRET, 'x' * 24)}?s=kannel-k-1&status=1").status_code == 403
    with channels_ctx.sessions() as session:
        assert session.get(OutboxMessage, row.id).status == "queued"  # type: ignore[union-attr]


def test_a_dlr_for_another_message_changes_nothing(kclient: Any, channels_ctx: AppContext) -> None:
    row = sent_followup(kclient, channels_ctx)
    assert kclient.get(f"{DLR}?o={row.id}&s=kannel-other&status=1").status_code == 200
    with channels_ctx.sessions() as session:
        assert session.get(OutboxMessage, row.id).status == "queued"  # type: ignore[union-attr]
