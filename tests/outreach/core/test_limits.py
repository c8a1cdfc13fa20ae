"""Request body limits per route class: 413 from Content-Length and from streamed bytes."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from campaigns.registry.models import Interaction
from outreach.core.context import AppContext
from outreach.web.auth.models import Role
from tests.support.app import sign
from tests.support.asgi import app_with, post_stream
from tests.support.reports import make_user
from tests.support.service import running_service, stream_post

SMS = "/twilio/sms"
FORM = "application/x-www-form-urlencoded"
MB = 1024 * 1024


def sms_params(body: str) -> dict[str, str]:
    return {
        "MessageSid": "SM" + "5" * 32,
        "AccountSid": "AC" + "0" * 32,
        "From": "+994501234567",
        "To": "+994502000101",
        "Body": body,
    }


def signed_sms_of_size(size: int) -> tuple[bytes, dict[str, str]]:
    """A validly signed /twilio/sms form body of exactly `size` bytes."""
    padding = size - len(urlencode(sms_params("")))
    params = sms_params("x" * padding)
    body = urlencode(params).encode()
    assert len(body) == size
    return body, {"Content-Type": FORM, "X-Twilio-Signature": sign(SMS, params)}


def count_interactions(ctx: AppContext) -> int:
    with ctx.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Interaction)) or 0)


def chunks(total: int, size: int = 64 * 1024) -> Any:
    return itertools.repeat(b"a" * size, total // size)


def test_a_signed_twilio_body_at_the_limit_is_answered_and_one_byte_more_is_413(
    client: TestClient, loaded: AppContext
) -> None:
    limit = loaded.settings.body_limit_twilio
    assert limit == 64 * 1024
    body, headers = signed_sms_of_size(limit)
    assert client.post(SMS, content=body, headers=headers).status_code == 200
    body, headers = signed_sms_of_size(limit + 1)
    response = client.post(SMS, content=body, headers=headers)
    assert response.status_code == 413
    assert count_interactions(loaded) == 1


def test_the_twilio_limit_is_a_setting(loaded: AppContext) -> None:
    body, headers = signed_sms_of_size(64 * 1024)
    with TestClient(app_with(loaded, body_limit_twilio=32 * 1024)) as small:
        assert small.post(SMS, content=body, headers=headers).status_code == 413
    with TestClient(app_with(loaded, body_limit_twilio=128 * 1024)) as large:
        assert large.post(SMS, content=body, headers=headers).status_code == 200


def test_a_streamed_twilio_body_is_cut_off_at_the_limit(loaded: AppContext) -> None:
    app = app_with(loaded)
    headers = {"Content-Type": FORM, "X-Twilio-Signature": "c2lnbmVk"}
    status, pulled = asyncio.run(post_stream(app, SMS, chunks(50 * MB), headers))
    assert status == 413
    # 64 KiB chunks: the one that passes the 64 KiB limit is the last one read.
    assert pulled == 2


def test_a_big_content_length_is_refused_before_any_byte_is_read(loaded: AppContext) -> None:
    app = app_with(loaded)
    headers = {"Content-Type": FORM, "Content-Length": str(50 * MB), "X-Twilio-Signature": "x"}
    status, pulled = asyncio.run(post_stream(app, SMS, chunks(50 * MB), headers))
    assert (status, pulled) == (413, 0)


def test_an_authenticated_api_write_is_capped_at_the_api_limit(loaded: AppContext) -> None:
    token = make_user(loaded, "boss", Role.MANAGER)
    app = app_with(loaded)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    status, pulled = asyncio.run(post_stream(app, "/api/campaigns", chunks(50 * MB), headers))
    assert status == 413
    assert pulled == loaded.settings.body_limit_api // (64 * 1024) + 1


def test_dashboard_and_login_forms_are_capped_at_the_web_limit(loaded: AppContext) -> None:
    app = app_with(loaded, body_limit_web=4096)
    for path in ("/login", "/logout", "/dashboard/airings", "/nowhere"):
        headers = {"Content-Type": FORM, "Content-Length": str(4097)}
        status, pulled = asyncio.run(post_stream(app, path, chunks(64 * 1024), headers))
        assert (status, pulled) == (413, 0), path


@pytest.mark.parametrize(
    ("path", "headers", "chunked", "expected"),
    [
        (SMS, {"Content-Type": FORM, "X-Twilio-Signature": "c2lnbmVk"}, True, 413),
        (SMS, {"Content-Type": FORM, "X-Twilio-Signature": "c2lnbmVk"}, False, 413),
        # Anonymous: refused unread (401); with a Content-Length over the limit, 413 first.
        ("/api/campaigns", {"Content-Type": "application/json"}, True, 401),
        ("/api/campaigns", {"Content-Type": "application/json"}, False, 413),
    ],
    ids=["twilio-chunked", "twilio-content-length", "api-chunked", "api-content-length"],
)
def test_a_50_mb_body_does_not_grow_the_real_service(
    tmp_path: Path, path: str, headers: dict[str, str], chunked: bool, expected: int
) -> None:
    with running_service(f"sqlite:///{tmp_path / 'outreach.db'}", tmp_path / "log") as service:
        # Warm up the same route, so lazy imports and caches are not counted.
        assert stream_post(service.port, path, headers, 2 * MB, chunked=chunked) == expected
        before = service.peak_rss_kib()
        status = stream_post(service.port, path, headers, 50 * MB, chunked=chunked)
        grown = service.peak_rss_kib() - before
    assert status == expected
    assert grown < 4 * 1024, f"peak RSS grew by {grown} KiB"
