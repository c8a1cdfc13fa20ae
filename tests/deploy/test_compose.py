"""compose.yaml: valid against the Compose Specification's JSON schema, and the topology it says.

Docker has no daemon on the test machines, so nothing here starts a container. The schema is
compose-spec/compose-spec's schema/compose-spec.json (Apache-2.0) at commit 170098ba07d9
(2026-06-23), vendored beside this file.
`docker compose config` (or Debian's docker-compose v1) also runs when one is installed.
"""

from __future__ import annotations

import copy
import ipaddress
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from outreach.cli.secrets import secret_lines
from tests.support.app import ROOT

COMPOSE_FILE = ROOT / "compose.yaml"
SCHEMA = json.loads((Path(__file__).with_name("compose-spec.json")).read_text())
REPLICAS = ("app1", "app2")


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
    return data


def schema_errors(doc: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft7Validator(SCHEMA)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc)]


def test_compose_file_is_valid_against_the_compose_spec_schema() -> None:
    assert schema_errors(compose()) == []


def test_the_schema_check_catches_a_misspelt_key() -> None:
    doc = copy.deepcopy(compose())
    doc["services"]["db"]["helthcheck"] = doc["services"]["db"].pop("healthcheck")
    assert schema_errors(doc)


def test_two_replicas_serve_without_the_scheduler_and_one_worker_runs_the_jobs() -> None:
    services = compose()["services"]
    for name in REPLICAS:
        replica = services[name]
        assert replica["command"] == ["serve"]
        assert replica["environment"]["OUTREACH_SCHEDULER_ENABLED"] == "0"
        assert replica["environment"]["OUTREACH_HOST"] == "0.0.0.0"  # noqa: S104
        assert replica["env_file"] == ".env"
        assert replica["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    workers = [s for s in services.values() if s.get("command") == ["worker"]]
    assert len(workers) == 1
    assert workers[0]["healthcheck"] == {"disable": True}  # the image's check is HTTP
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"


def test_postgres_keeps_its_data_in_a_named_volume_and_has_a_healthcheck() -> None:
    doc = compose()
    db = doc["services"]["db"]
    assert db["image"].startswith("postgres:")
    volume = db["volumes"][0].split(":")[0]
    assert volume in doc["volumes"]
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    url = doc["services"]["app1"]["environment"]["OUTREACH_DATABASE_URL"]
    assert url.startswith("postgresql+psycopg://") and "@db:5432/" in url


def test_nginx_is_the_only_published_service_and_proxies_to_both_replicas() -> None:
    services = compose()["services"]
    published = [name for name, s in services.items() if s.get("ports")]
    assert published == ["nginx"]
    nginx = services["nginx"]
    mount = next(v for v in nginx["volumes"] if "/etc/nginx/conf.d/" in v)
    conf = (ROOT / mount.split(":")[0]).read_text()
    upstream = conf.split("upstream outreach {", 1)[1].split("}", 1)[0]
    servers = re.findall(r"^\s*server\s+([\w.-]+):(\d+);", upstream, re.MULTILINE)
    assert servers == [(name, services[name]["environment"]["OUTREACH_PORT"]) for name in REPLICAS]
    listen = re.search(r"^\s*listen\s+(\d+);", conf, re.MULTILINE)
    assert listen is not None
    assert nginx["ports"][0].endswith(f":{listen.group(1)}")
    assert {d for d in nginx["depends_on"]} == set(REPLICAS)


def test_forwarded_headers_are_trusted_from_nginxs_fixed_address_only() -> None:
    doc = compose()
    services = doc["services"]
    nginx_address = services["nginx"]["networks"]["edge"]["ipv4_address"]
    subnet = ipaddress.ip_network(doc["networks"]["edge"]["ipam"]["config"][0]["subnet"])
    assert ipaddress.ip_address(nginx_address) in subnet
    for name in REPLICAS:
        assert services[name]["environment"]["OUTREACH_TRUSTED_PROXIES"] == nginx_address
        assert services[name]["environment"]["FORWARDED_ALLOW_IPS"] == nginx_address  # uvicorn's
        assert ipaddress.ip_address(services[name]["networks"]["edge"]["ipv4_address"]) in subnet
    # nginx cannot reach the database.
    assert set(services["nginx"]["networks"]) == {"edge"}
    assert "edge" not in services["db"]["networks"]


def test_no_secret_is_written_in_the_compose_file() -> None:
    secret = re.compile(r"KEY|SECRET|TOKEN|PASSWORD")
    for name, service in compose()["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if secret.search(key):
                # Only interpolations from .env, which compose refuses to run without.
                assert re.fullmatch(r"\$\{\w+:\?[^}]+\}", value), (name, key)
            assert not re.search(r"://[^:/]+:[^$]", str(value)), (name, key)  # no password in a URL


def _compose_command() -> list[str] | None:
    docker = shutil.which("docker")
    plugin = docker and subprocess.run([docker, "compose", "version"], capture_output=True)
    if docker and plugin and plugin.returncode == 0:
        return [docker, "compose"]
    v1 = shutil.which("docker-compose")
    return [v1] if v1 else None


COMPOSE_CLI = _compose_command()


@pytest.mark.skipif(COMPOSE_CLI is None, reason="neither `docker compose` nor docker-compose")
def test_compose_config_accepts_the_file_with_a_generated_env(tmp_path: Path) -> None:
    assert COMPOSE_CLI is not None
    for name in ("compose.yaml", "Dockerfile", ".env.example"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "deploy", tmp_path / "deploy")
    (tmp_path / "campaigns" / "demo").mkdir(parents=True)
    env = (ROOT / ".env.example").read_text() + "\n".join(secret_lines()) + "\n"
    (tmp_path / ".env").write_text(env)
    result = subprocess.run(
        [*COMPOSE_CLI, "config"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    resolved = yaml.safe_load(result.stdout)
    assert set(resolved["services"]) == {"migrate", "app1", "app2", "worker", "nginx", "db"}
    app_env = resolved["services"]["app1"]["environment"]
    assert app_env["OUTREACH_HASH_KEY"]  # from .env
    assert "${" not in app_env["OUTREACH_DATABASE_URL"]


@pytest.mark.skipif(COMPOSE_CLI is None, reason="neither `docker compose` nor docker-compose")
def test_compose_config_refuses_to_run_without_a_postgres_password(tmp_path: Path) -> None:
    assert COMPOSE_CLI is not None
    shutil.copy(ROOT / "compose.yaml", tmp_path / "compose.yaml")
    (tmp_path / ".env").write_text((ROOT / ".env.example").read_text())
    result = subprocess.run(
        [*COMPOSE_CLI, "config"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "outreach secrets generate" in result.stderr
