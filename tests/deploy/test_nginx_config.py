"""The shipped nginx config: it renders, nginx accepts it, and a signed SMS through it is answered.

The live test runs Debian's nginx in front of two `outreach serve` processes on 127.0.0.1 (SQLite
here; tests/deploy/test_topology.py runs the whole topology on PostgreSQL).
"""

from __future__ import annotations

import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from twilio.request_validator import RequestValidator

from outreach.core.settings import Settings
from tests.support.app import DEMO_FILE, ROOT, TEST_TOKEN, make_settings
from tests.support.processes import (
    NGINX,
    Nginx,
    OutreachProcess,
    answers,
    free_port,
    render,
    service_env,
    wait_until,
)

needs_nginx = pytest.mark.skipif(not NGINX, reason="nginx is not installed (apt-get install nginx)")
COMPOSE_CONF = ROOT / "deploy" / "nginx" / "outreach.conf"
TWILIO_TIMEOUT_SECONDS = 15
WEBHOOK_CAP, API_CAP = "64k", "1m"  # the service's 64 KiB webhook and 1 MiB API body caps
NGINX_UNITS = {"k": 1024, "m": 1024 * 1024}


def size_in_bytes(size: str) -> int:
    return int(size[:-1]) * NGINX_UNITS[size[-1]]


def test_compose_copy_is_the_template_rendered_for_the_two_replicas() -> None:
    rendered = render.render_server(["app1:8000", "app2:8000"], "8080", render.COMPOSE_ACCESS_LOG)
    assert COMPOSE_CONF.read_text() == rendered, (
        "deploy/nginx/outreach.conf is stale: python deploy/nginx/render.py --server-only "
        "--listen 8080 --upstream app1:8000 --upstream app2:8000 > deploy/nginx/outreach.conf"
    )


def test_every_timeout_ends_before_twilios_and_the_body_caps_match_the_service() -> None:
    conf = COMPOSE_CONF.read_text()
    found = re.findall(r"^\s*(\w+_timeout)\s+(\d+)s;", conf, re.MULTILINE)
    # keepalive_timeout is how long an idle client connection stays open: no request waits on it.
    timeouts = [(name, seconds) for name, seconds in found if name != "keepalive_timeout"]
    assert {name for name, _ in timeouts} >= {
        "proxy_connect_timeout",
        "proxy_read_timeout",
        "proxy_send_timeout",
        "client_body_timeout",
        "client_header_timeout",
    }
    assert all(int(seconds) < TWILIO_TIMEOUT_SECONDS for _, seconds in timeouts), timeouts
    assert size_in_bytes(WEBHOOK_CAP) == Settings.model_fields["body_limit_twilio"].default
    api_limit = Settings.model_fields.get(
        "body_limit_api"
    )  # the service's API cap, once it has one
    if api_limit is not None:
        assert size_in_bytes(API_CAP) == api_limit.default
    server_level = conf.split("location", 1)[0]
    assert f"client_max_body_size {WEBHOOK_CAP};" in server_level
    api = conf.split("location /api/", 1)[1].split("}", 1)[0]
    assert f"client_max_body_size {API_CAP};" in api
    metrics = conf.split("location ^~ /metrics", 1)[1].split("}", 1)[0]
    assert "return 404;" in metrics
    for header in ("X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host"):
        assert f"proxy_set_header {header} " in conf


def test_render_refuses_an_address_without_a_port() -> None:
    with pytest.raises(ValueError, match="host:port"):
        render.render_server(["app1"], "8080", "/dev/null")
    with pytest.raises(ValueError, match="host:port"):
        render.render_server(["127.0.0.1:8001"], "127.0.0.1:99999", "/dev/null")


def test_render_script_writes_a_config_under_its_prefix(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, str(render.__file__), "--prefix", str(tmp_path), "--upstream", "a:1"],
        capture_output=True,
        text=True,
        check=True,
    )
    conf = (tmp_path / "nginx.conf").read_text()
    assert f"nginx -e stderr -p {tmp_path}" in out.stdout
    # Everything nginx writes lies under the prefix, so any user can run it.
    paths = re.findall(r"^\s*(?:pid|error_log|access_log|\w+_temp_path)\s+(\S+)", conf, re.M)
    assert len(paths) == 8
    assert all(p.rstrip(";").startswith(str(tmp_path)) for p in paths), paths


@needs_nginx
def test_nginx_accepts_the_rendered_config(tmp_path: Path) -> None:
    nginx = Nginx(tmp_path / "ngx", ["127.0.0.1:8001", "127.0.0.1:8002"])
    result = subprocess.run(nginx.command("-t"), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


@pytest.fixture
def two_services_behind_nginx(tmp_path: Path) -> Iterator[tuple[Nginx, list[OutreachProcess]]]:
    ports = [free_port(), free_port()]
    nginx = Nginx(tmp_path / "ngx", [f"127.0.0.1:{p}" for p in ports])
    settings = make_settings(f"sqlite:///{tmp_path / 'outreach.db'}", public_url=nginx.url)
    env = service_env(settings, OUTREACH_SCHEDULER_ENABLED="0")
    migrate = OutreachProcess(
        ["campaigns", "load", str(DEMO_FILE)], env, tmp_path / "migrate.log", tmp_path
    )
    assert migrate.run() == 0, (tmp_path / "migrate.log").read_text()
    services = [
        OutreachProcess(
            ["serve", "--port", str(port)], env, tmp_path / f"serve{port}.log", tmp_path
        ).start()
        for port in ports
    ]
    try:
        for port, service in zip(ports, services, strict=True):
            wait_until(
                lambda port=port: answers(f"http://127.0.0.1:{port}/healthz"),
                f"outreach serve on {port}",
                [service.log],
            )
        nginx.start()
        yield nginx, services
    finally:
        nginx.stop()
        for service in services:
            service.stop()


def signed_sms(base_url: str, body: str, sender: str, *, signed_for: str) -> httpx.Response:
    params = {
        "MessageSid": "SM" + secrets.token_hex(16),
        "AccountSid": "AC" + "0" * 32,
        "From": sender,
        "To": "+994502000101",
        "Body": body,
        "NumMedia": "0",
    }
    signature = RequestValidator(TEST_TOKEN).compute_signature(signed_for + "/twilio/sms", params)
    return httpx.post(
        base_url + "/twilio/sms", data=params, headers={"X-Twilio-Signature": signature}
    )


@needs_nginx
def test_signed_sms_through_nginx_gets_the_keyword_reply_from_either_process(
    two_services_behind_nginx: tuple[Nginx, list[OutreachProcess]],
) -> None:
    nginx, _ = two_services_behind_nginx
    for n in range(4):
        resp = signed_sms(nginx.url, "iş", f"+99450123450{n}", signed_for=nginx.url)
        assert resp.status_code == 200
        assert "Xaricdə iş? Müqavilə, viza, agentliyi yoxlayın." in resp.text
    # Both processes answered: the upstream has the two of them.
    assert len(nginx.upstreams_used()) == 2
    # A signature computed on a process's own address is not the public URL's: refused.
    upstream = sorted(nginx.upstreams_used())[0]
    wrong = signed_sms(nginx.url, "iş", "+994501234599", signed_for=f"http://{upstream}")
    assert wrong.status_code == 403
    too_big = httpx.post(nginx.url + "/twilio/sms", data={"Body": "x" * 70_000})
    assert too_big.status_code == 413
    assert "Request Entity Too Large" in too_big.text  # nginx refused it: no process read it
    assert httpx.get(nginx.url + "/metrics").status_code == 404
    assert httpx.get(nginx.url + "/healthz").status_code == 200
