"""FLOIP Flow Results export: the package validates against a schema written from the spec."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from campaigns.reports.floip import iso639_3
from outreach.core.context import AppContext
from outreach.web.auth.models import Role
from tests.support.app import ROOT
from tests.support.reports import make_user
from tests.support.voice import CALLER, OPEN, RADIO, Caller

SCHEMA = json.loads((ROOT / "campaigns/reports/floip_schema.json").read_text())
DAY = {"from": "2027-01-31", "to": "2027-02-02"}


def _validate_package(descriptor: dict, rows: list) -> None:
    checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
    jsonschema.Draft202012Validator(SCHEMA, format_checker=checker).validate(descriptor)
    rows_schema = {"$ref": "#/$defs/rows", **{k: SCHEMA[k] for k in ("$schema", "$defs")}}
    jsonschema.Draft202012Validator(rows_schema, format_checker=checker).validate(rows)
    ids = [row[1] for row in rows]
    assert len(ids) == len(set(ids)), "row ids must be unique"


@pytest.fixture
def phone(loaded: AppContext, client: TestClient) -> Iterator[TestClient]:
    loaded.clock = lambda: OPEN
    yield client


def _two_calls(phone: TestClient) -> list[Caller]:
    first = Caller(phone, RADIO)
    first.start()
    first.press("2")  # Russian
    first.press("3")  # topic: visas
    first.press("2")  # back to topics
    first.press("4")  # topic: trafficking
    first.status("completed", 70)
    second = Caller(phone, RADIO, caller="+994551112233")
    second.start()
    second.press("1")
    second.press("1")  # topic: legal work
    second.status("completed", 30)
    return [first, second]


def test_floip_export_validates_and_names_contacts_only_by_keyed_hash(
    phone: TestClient, loaded: AppContext
) -> None:
    calls = _two_calls(phone)
    token = make_user(loaded, "mgr", Role.MANAGER)
    auth = {"Authorization": f"Bearer {token}"}
    descriptor = phone.get("/api/exports/floip/radio", params=DAY, headers=auth).json()
    data_url = descriptor["resources"][0]["api_data_url"]
    assert data_url.startswith("http") and "/api/exports/floip/radio/responses" in data_url
    body = phone.get(data_url.split("testserver", 1)[1], headers=auth).json()
    rows = body["data"]["attributes"]["responses"]
    _validate_package(descriptor, rows)
    schema = descriptor["resources"][0]["schema"]
    assert [f["name"] for f in schema["fields"]] == [
        "timestamp",
        "row_id",
        "contact_id",
        "session_id",
        "question_id",
        "response",
        "response_metadata",
    ]
    assert schema["questions"]["topic"]["type"] == "select_one"
    assert "visas" in schema["questions"]["topic"]["type_options"]["choices"]
    assert [(r[3], r[5]) for r in rows] == [
        (calls[0].sid, "visas"),
        (calls[0].sid, "trafficking"),
        (calls[1].sid, "legal_work"),
    ]
    assert rows[0][2] == loaded.contact_id(CALLER)
    assert CALLER not in json.dumps(rows) and CALLER[1:] not in json.dumps(rows)
    assert all(r[0].endswith("+00:00") for r in rows)


def test_floip_descriptor_names_the_language_by_its_iso_639_3_code(
    phone: TestClient, loaded: AppContext
) -> None:
    _two_calls(phone)
    auth = {"Authorization": f"Bearer {make_user(loaded, 'mgr', Role.MANAGER)}"}
    descriptor = phone.get("/api/exports/floip/radio", params=DAY, headers=auth).json()
    assert descriptor["resources"][0]["schema"]["language"] == "aze"  # the radio flow's default
    assert [iso639_3(code) for code in ("az", "ru", "en")] == ["aze", "rus", "eng"]
    assert iso639_3("eng") == "eng" and iso639_3("zz") is None


def test_floip_export_is_for_managers_and_unknown_flows_are_404(
    phone: TestClient, loaded: AppContext
) -> None:
    viewer = make_user(loaded, "viewer", Role.VIEWER)
    manager = make_user(loaded, "mgr", Role.MANAGER)
    assert (
        phone.get(
            "/api/exports/floip/radio", headers={"Authorization": f"Bearer {viewer}"}
        ).status_code
        == 403
    )
    assert (
        phone.get(
            "/api/exports/floip/nope", headers={"Authorization": f"Bearer {manager}"}
        ).status_code
        == 404
    )
    assert phone.get("/api/exports/floip/radio").status_code == 401


def test_schema_rejects_a_package_with_a_wrong_field_order() -> None:
    bad = {
        "profile": "flow-results-package",
        "flow_results_specification_version": "1.0.0-rc1",
        "created": "2027-02-01T00:00:00+00:00",
        "modified": "2027-02-01T00:00:00+00:00",
        "id": "3c9e3f0e-2f1a-4b7c-9d2e-0a1b2c3d4e5f",
        "name": "radio",
        "resources": [
            {
                "path": "r.json",
                "schema": {
                    "fields": [
                        {"name": n, "type": "string"}
                        for n in (
                            "row_id",
                            "timestamp",
                            "contact_id",
                            "session_id",
                            "question_id",
                            "response",
                            "response_metadata",
                        )
                    ],
                    "questions": {},
                },
            }
        ],
    }
    with pytest.raises(jsonschema.ValidationError):
        _validate_package(bad, [])


def test_cli_writes_a_valid_package_to_a_directory(
    phone: TestClient, loaded: AppContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _two_calls(phone)
    from outreach.cli import app

    for key, value in {
        "OUTREACH_DATABASE_URL": loaded.settings.database_url,
        "OUTREACH_HASH_KEY": loaded.settings.hash_key,
        "OUTREACH_ENCRYPTION_KEY": loaded.settings.encryption_key,
        "OUTREACH_SESSION_SECRET": loaded.settings.session_secret,
        "TWILIO_AUTH_TOKEN": loaded.settings.twilio_auth_token,
    }.items():
        monkeypatch.setenv(key, value)
    result = CliRunner().invoke(
        app,
        [
            "export",
            "floip",
            "radio",
            "--out",
            str(tmp_path),
            "--from",
            DAY["from"],
            "--to",
            DAY["to"],
        ],
    )
    assert result.exit_code == 0, result.output
    descriptor = json.loads((tmp_path / "datapackage.json").read_text())
    rows = json.loads((tmp_path / "responses.json").read_text())
    assert descriptor["resources"][0]["path"] == "responses.json"
    _validate_package(descriptor, rows)
    assert len(rows) == 3
