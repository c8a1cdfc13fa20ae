"""Stored flows: versions, atomic publish, calls that keep their version, import from disk."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from campaigns.flows import service
from campaigns.flows.imports import import_file
from campaigns.flows.models import FlowVersion
from campaigns.registry.models import Hotline
from campaigns.registry.service import load_file
from campaigns.reports.floip import rows
from outreach.core.context import AppContext
from outreach.core.db import make_engine, make_session_factory, session_scope
from tests.support.app import DEMO_FILE
from tests.support.flows import DEMO_FLOWS
from tests.support.voice import HOTLINE, OPEN, Caller, record, said

HOTLINE_FILE = DEMO_FLOWS / "hotline.yaml"
SOURCE = HOTLINE_FILE.read_text(encoding="utf-8")
OLD_INTRO = "This call is free and anonymous. We never share your number."
NEW_INTRO = "Version two: this call is free."


def imported(ctx: AppContext) -> None:
    with ctx.sessions.begin() as session:
        import_file(session, HOTLINE_FILE, user="test", settings=ctx.settings)


def test_saving_numbers_versions_and_refuses_a_broken_flow_with_its_line(ctx: AppContext) -> None:
    with ctx.sessions.begin() as session:
        first = service.save_version(session, source=SOURCE, user="m")
        second = service.save_version(
            session, source=SOURCE.replace(OLD_INTRO, NEW_INTRO), user="m"
        )
        assert (first.number, second.number) == (1, 2)
        broken = SOURCE.replace("    next: psa\n", "    next: nowhere\n")
        with pytest.raises(service.FlowRefused) as refused:
            service.save_version(session, source=broken, user="m", key="hotline")
        line = broken.splitlines().index("    next: nowhere") + 1
        dangling = [i for i in refused.value.issues if "unknown node 'nowhere'" in i.message]
        assert [i.line for i in dangling] == [line]
        with pytest.raises(service.FlowRefused):
            service.save_version(
                session, source=SOURCE.replace("id: hotline", "id: x"), key="hotline", user="m"
            )
        assert [v.number for v in service.versions(session, "hotline")] == [2, 1]


def patient(ctx: AppContext) -> sessionmaker[Session]:
    """Sessions that wait long for a lock: twenty writers queue on SQLite on a loaded machine,
    and this test is about the outcome, not about speed."""
    return make_session_factory(make_engine(ctx.settings.database_url, lock_timeout=120))


def test_twenty_saves_at_once_get_twenty_numbers(ctx: AppContext) -> None:
    imported(ctx)
    sessions = patient(ctx)

    def save(n: int) -> int:
        # As a request does: session_scope (on SQLite, BEGIN IMMEDIATE).
        with session_scope(sessions) as session:
            return service.save_version(session, source=SOURCE + f"\n# {n}\n", user="m").number

    with ThreadPoolExecutor(max_workers=20) as pool:
        numbers = sorted(pool.map(save, range(20)))
    assert numbers == list(range(2, 22))


def test_import_attaches_the_hotline_and_publishes_the_first_version(loaded: AppContext) -> None:
    with loaded.sessions.begin() as session:
        result = import_file(session, HOTLINE_FILE, user="test", settings=loaded.settings)
        assert (result.key, result.version, result.created) == ("hotline", 1, True)
        assert result.attached == (HOTLINE,)
        again = import_file(session, HOTLINE_FILE, user="test", settings=loaded.settings)
        assert (again.version, again.created) == (1, False)
        live = service.live_version(session, "hotline")
        assert live is not None and live.number == 1
        hotline = session.scalar(select(Hotline).where(Hotline.number == HOTLINE))
        assert hotline is not None
        assert service.attached_version(session, hotline_id=hotline.id) == ("hotline", live.id)


def test_reloading_the_campaigns_file_keeps_the_attachments(loaded: AppContext) -> None:
    imported(loaded)
    with loaded.sessions.begin() as session:
        load_file(session, DEMO_FILE)
        hotline = session.scalar(select(Hotline).where(Hotline.number == HOTLINE))
        assert hotline is not None
        attached = service.attached_version(session, hotline_id=hotline.id)
        assert attached is not None and attached[0] == "hotline"


def test_a_call_in_progress_finishes_on_the_version_it_started_on(
    loaded: AppContext, client: TestClient
) -> None:
    loaded.clock = lambda: OPEN
    imported(loaded)
    old = Caller(client, HOTLINE)
    old.start()
    with loaded.sessions.begin() as session:
        v2 = service.save_version(session, source=SOURCE.replace(OLD_INTRO, NEW_INTRO), user="m")
        service.publish(session, key="hotline", number=v2.number)
    new = Caller(client, HOTLINE)
    new.start()
    assert OLD_INTRO in said(old.press("3"))  # English, then the intro of version 1
    assert NEW_INTRO in said(new.press("3"))
    stored_old, _ = record(loaded, old.sid)
    stored_new, _ = record(loaded, new.sid)
    with loaded.sessions() as session:
        numbers = {v.id: v.number for v in session.scalars(select(FlowVersion))}
    assert numbers[stored_old.flow_version_id or 0] == 1
    assert numbers[stored_new.flow_version_id or 0] == 2


def test_floip_rows_name_the_version_of_each_call(loaded: AppContext, client: TestClient) -> None:
    loaded.clock = lambda: OPEN
    imported(loaded)
    call = Caller(client, HOTLINE)
    call.start()
    call.press("3")
    while "topic" not in call.action() and not call.ended:
        call.press("")
        if any("legal work" in s.lower() for s in said(call.twiml)):
            break
    call.press("1")
    with loaded.sessions() as session:
        flow = service.load_version(session, record(loaded, call.sid)[0].flow_version_id or 0, "x")
        found = rows(session, flow=flow, start=OPEN.replace(year=2026), end=OPEN.replace(year=2028))
    assert [r[6]["flow_version"] for r in found] == [1]


def test_twenty_imports_of_one_file_at_once_save_it_once(loaded: AppContext) -> None:
    sessions = patient(loaded)

    def run(_: int) -> int:
        with session_scope(sessions) as session:
            return import_file(session, HOTLINE_FILE, user="m", settings=loaded.settings).version

    with ThreadPoolExecutor(max_workers=20) as pool:
        assert set(pool.map(run, range(20))) == {1}
    with loaded.sessions() as session:
        assert [v.number for v in service.versions(session, "hotline")] == [1]
        live = service.live_version(session, "hotline")
        assert live is not None and live.number == 1
