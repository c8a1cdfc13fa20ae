"""The campaigns API carries versions: a stale PUT is a 409, and every change is audited."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from campaigns.audit.models import AuditEntry
from outreach.core.context import AppContext
from outreach.web.auth.models import Role
from tests.support.reports import make_user
from tests.support.server import serve

FLYER = "AZ-FLYER-BAKU-2027"
COPIES = 20


@pytest.fixture
def boss(loaded: AppContext) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_user(loaded, 'boss', Role.MANAGER)}"}


def audit(ctx: AppContext) -> list[AuditEntry]:
    with ctx.sessions() as session:
        return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def test_get_then_put_changes_no_version_and_records_nothing(
    client: TestClient, loaded: AppContext, boss: dict[str, str]
) -> None:
    before = len(audit(loaded))
    document = client.get(f"/api/campaigns/{FLYER}", headers=boss).json()
    assert document["version"] == 1
    put = client.put(f"/api/campaigns/{FLYER}", json=document, headers=boss)
    assert put.status_code == 200, put.text
    assert put.json()["version"] == 1
    assert len(audit(loaded)) == before


def test_a_put_based_on_an_older_version_is_a_409_and_loses_nothing(
    client: TestClient, loaded: AppContext, boss: dict[str, str]
) -> None:
    document = client.get(f"/api/campaigns/{FLYER}", headers=boss).json()
    first = client.put(f"/api/campaigns/{FLYER}", json={**document, "name": "One"}, headers=boss)
    assert first.status_code == 200 and first.json()["version"] == 2
    stale = client.put(f"/api/campaigns/{FLYER}", json={**document, "name": "Two"}, headers=boss)
    assert stale.status_code == 409
    assert "boss through the api" in stale.json()["detail"]
    assert client.get(f"/api/campaigns/{FLYER}", headers=boss).json()["name"] == "One"


def test_changes_through_the_api_are_audited_with_before_and_after(
    client: TestClient, loaded: AppContext, boss: dict[str, str]
) -> None:
    document = client.get(f"/api/campaigns/{FLYER}", headers=boss).json()
    client.put(f"/api/campaigns/{FLYER}", json={**document, "region": "Ganja"}, headers=boss)
    assert client.delete(f"/api/campaigns/{FLYER}", headers=boss).status_code == 204
    *_, update, delete = audit(loaded)
    assert (update.actor, update.interface, update.action) == ("boss", "api", "update")
    assert (update.before, update.after, update.version) == (
        {"region": "Baku"},
        {"region": "Ganja"},
        2,
    )
    assert (delete.action, delete.after) == ("delete", None)
    assert delete.before is not None and delete.before["code"] == FLYER


def test_twenty_puts_of_one_version_at_once_make_one_change(
    loaded: AppContext, app: Any, boss: dict[str, str]
) -> None:
    with serve(app) as client:
        document = client.get(f"/api/campaigns/{FLYER}", headers=boss).json()
        barrier = threading.Barrier(COPIES)

        def put(n: int) -> httpx.Response:
            body = {**document, "name": f"Name {n}"}
            barrier.wait(timeout=30)
            return client.put(f"/api/campaigns/{FLYER}", json=body, headers=boss)

        with ThreadPoolExecutor(max_workers=COPIES) as pool:
            statuses = sorted(r.status_code for r in pool.map(put, range(COPIES)))
        final = client.get(f"/api/campaigns/{FLYER}", headers=boss).json()
    assert statuses == [200] + [409] * (COPIES - 1)
    assert final["version"] == 2
    updates = [e for e in audit(loaded) if e.action == "update"]
    assert len(updates) == 1 and updates[0].after == {"name": final["name"]}


def test_airings_recorded_and_deleted_through_the_api_are_audited(
    client: TestClient, loaded: AppContext, boss: dict[str, str]
) -> None:
    body = {
        "campaign": "AZ-RADIO-IDMAN-2027",
        "station": "Idman FM",
        "aired_at": "2027-02-01T08:00:00+04:00",
        "duration_seconds": 30,
    }
    created = client.post("/api/airings", json=body, headers=boss)
    assert created.status_code == 201, created.text
    assert client.delete(f"/api/airings/{created.json()['id']}", headers=boss).status_code == 204
    *_, made, gone = audit(loaded)
    assert (made.target_kind, made.action, made.interface) == ("airing", "create", "api")
    assert made.after is not None and made.after["station"] == "Idman FM"
    assert (gone.action, gone.before) == ("delete", made.after)
