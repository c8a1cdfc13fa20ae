"""Webhooks on SQLite do their database work inline on the event loop, unless a job writes.

Inline, a process's webhooks take their writer turns one after the other without a
thread-pool hop each; while another thread holds the turn (a job, a page), a webhook waits
in the thread pool, so the loop keeps answering everything else.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from xml.etree import ElementTree

import httpx
import pytest
from sqlalchemy import func, select

from campaigns.registry.models import Interaction
from campaigns.sms import service as sms_service
from outreach.core.context import AppContext
from tests.support.app import sign
from tests.support.database import another_thread_writing
from tests.support.server import serve

NEWS = "+994502000101"  # the demo's AZ-NEWS-XALQ-2027 number: keyword "news"
HOLD_SECONDS = 1.5


@pytest.fixture
def server(loaded: AppContext, app: object) -> Iterator[httpx.Client]:
    with serve(app) as client:
        yield client


def _sms(n: int) -> dict[str, str]:
    return {"MessageSid": f"SM{n:032x}", "From": "+994551112233", "To": NEWS, "Body": "news"}


def _post(client: httpx.Client, form: dict[str, str]) -> httpx.Response:
    return client.post(
        "/twilio/sms", data=form, headers={"X-Twilio-Signature": sign("/twilio/sms", form)}
    )


def _reply(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    message = ElementTree.fromstring(response.text).find("Message")
    assert message is not None, response.text
    return message.text or ""


def test_on_sqlite_the_sms_work_runs_on_the_event_loop_thread(
    server: httpx.Client, loaded: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    if loaded.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's waits stay in the thread pool")
    threads: list[str] = []
    handle = sms_service.handle_inbound_sms

    def recording(*args: object, **kwargs: object) -> sms_service.SmsOutcome:
        threads.append(threading.current_thread().name)
        return handle(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("webhooks.sms.handle_inbound_sms", recording)
    assert _reply(_post(server, _sms(1)))  # the keyword's reply
    assert threads, "the handler did not run"
    assert not any("AnyIO worker" in name for name in threads), threads


def test_while_a_job_writes_the_loop_answers_and_the_sms_waits_its_turn(
    server: httpx.Client, loaded: AppContext
) -> None:
    expected = _reply(_post(server, _sms(1)))  # the keyword's reply, answered at once
    with ThreadPoolExecutor(1) as pool:
        with another_thread_writing(loaded.sessions):  # the writer turn, as a job holds it
            start = time.monotonic()
            texted = pool.submit(_post, server, _sms(2))
            time.sleep(0.2)  # the SMS is waiting for the turn now
            health = server.get("/healthz")
            health_seconds = time.monotonic() - start
            time.sleep(HOLD_SECONDS)
        answer = texted.result(timeout=30)
    assert health.status_code == 200
    # Not stuck behind the job: an inline wait for the turn would have blocked the loop.
    assert health_seconds < HOLD_SECONDS / 2
    assert _reply(answer) == expected
    with loaded.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Interaction)) == 2


def test_while_another_process_writes_the_loop_answers_and_the_sms_waits_its_turn(
    server: httpx.Client, loaded: AppContext
) -> None:
    """`outreach worker` or a CLI command holding SQLite's write lock must not stop the loop."""
    if loaded.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's file lock")
    expected = _reply(_post(server, _sms(1)))
    database = loaded.engine.url.database
    assert database
    other = sqlite3.connect(database, isolation_level=None)  # as another process would
    other.execute("BEGIN IMMEDIATE")
    try:
        with ThreadPoolExecutor(1) as pool:
            start = time.monotonic()
            texted = pool.submit(_post, server, _sms(2))
            time.sleep(0.2)  # the SMS met the lock by now
            health = server.get("/healthz")
            health_seconds = time.monotonic() - start
            time.sleep(HOLD_SECONDS)
            other.execute("COMMIT")
            answer = texted.result(timeout=30)
    finally:
        other.close()
    assert health.status_code == 200
    assert health_seconds < HOLD_SECONDS / 2  # not behind SQLite's busy wait on the loop
    assert _reply(answer) == expected  # answered once the lock was free, not an apology
    with loaded.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Interaction)) == 2
