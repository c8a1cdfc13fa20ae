#!/usr/bin/env python3
"""Renders the Outreach nginx config for given upstream processes and a listen address.

Two outputs, from the one template beside this file (outreach.conf.template):

- `--server-only`: the http-context part (upstream + server), printed. compose.yaml mounts the
  copy rendered for its replicas, deploy/nginx/outreach.conf:
      python deploy/nginx/render.py --server-only --listen 8080 \\
          --upstream app1:8000 --upstream app2:8000 > deploy/nginx/outreach.conf
- `--prefix DIR`: a whole nginx.conf written to DIR/nginx.conf, with the pid file, logs and temp
  paths under DIR, so any user can run it in the foreground:
      python deploy/nginx/render.py --prefix /tmp/ngx --listen 127.0.0.1:8080 \\
          --upstream 127.0.0.1:8001 --upstream 127.0.0.1:8002
      nginx -e stderr -p /tmp/ngx -c /tmp/ngx/nginx.conf

The same substitution works with envsubst, naming the variables so nginx's own stay:
    envsubst '${OUTREACH_NGINX_LISTEN} ${OUTREACH_NGINX_UPSTREAMS} ${OUTREACH_NGINX_ACCESS_LOG}'
(with OUTREACH_NGINX_UPSTREAMS="server 127.0.0.1:8001; server 127.0.0.1:8002;").

Standard library only: it runs with any Python 3.11, inside or outside the project's venv.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from string import Template

TEMPLATE = Path(__file__).with_name("outreach.conf.template")
COMPOSE_ACCESS_LOG = "/var/log/nginx/access.log"
_HOST_PORT = re.compile(r"^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$")

MAIN = """\
# A whole nginx.conf for Outreach, runnable by any user in the foreground:
#   nginx -e stderr -p {prefix} -c {prefix}/nginx.conf
# Rendered by deploy/nginx/render.py; the http part is deploy/nginx/outreach.conf.template.
daemon off;
worker_processes {workers};
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log warn;

events {{
    worker_connections 1024;
}}

http {{
    client_body_temp_path {prefix}/tmp/client_body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;

{server}
}}
"""


def check_address(address: str) -> str:
    """Returns a host:port (or [v6]:port) address, or raises ValueError saying why not."""
    if not _HOST_PORT.match(address) or not 0 < int(address.rsplit(":", 1)[1]) < 65536:
        raise ValueError(f"not a host:port address: {address!r}")
    return address


def check_listen(listen: str) -> str:
    """Returns a listen value (a port, or host:port), or raises ValueError saying why not."""
    if listen.isdigit() and 0 < int(listen) < 65536:
        return listen
    return check_address(listen)


def render_server(upstreams: list[str], listen: str, access_log: str) -> str:
    """Returns the http-context config: the upstream of `upstreams` and the server on `listen`."""
    if not upstreams:
        raise ValueError("at least one upstream is needed")
    servers = "\n    ".join(f"server {check_address(u)};" for u in upstreams)
    text = Template(TEMPLATE.read_text()).safe_substitute(
        OUTREACH_NGINX_UPSTREAMS=servers,
        OUTREACH_NGINX_LISTEN=check_listen(listen),
        OUTREACH_NGINX_ACCESS_LOG=access_log,
    )
    if "${OUTREACH_" in text:
        raise ValueError("the template names a placeholder render.py does not fill")
    return text


def render_main(upstreams: list[str], listen: str, prefix: Path, workers: int = 1) -> str:
    """Returns a whole nginx.conf whose pid file, logs and temp paths all lie under `prefix`."""
    prefix = prefix.resolve()
    server = render_server(upstreams, listen, str(prefix / "logs" / "access.log"))
    indented = "\n".join(f"    {line}" if line else "" for line in server.splitlines())
    return MAIN.format(prefix=prefix, workers=workers, server=indented)


def write_main(upstreams: list[str], listen: str, prefix: Path, workers: int = 1) -> Path:
    """Writes prefix/nginx.conf (and the folders it names); returns its path."""
    for sub in ("logs", "tmp"):
        (prefix / sub).mkdir(parents=True, exist_ok=True)
    path = prefix / "nginx.conf"
    path.write_text(render_main(upstreams, listen, prefix, workers))
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument(
        "--upstream", action="append", required=True, help="host:port of an `outreach serve`"
    )
    parser.add_argument("--listen", default="8080", help="port or host:port nginx listens on")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--prefix", type=Path, help="write DIR/nginx.conf, runnable by any user")
    mode.add_argument("--server-only", action="store_true", help="print the http-context part")
    parser.add_argument("--workers", type=int, default=1, help="nginx worker processes")
    parser.add_argument(
        "--access-log", default=COMPOSE_ACCESS_LOG, help="access log path (with --server-only)"
    )
    args = parser.parse_args(argv)
    try:
        if args.server_only:
            sys.stdout.write(render_server(args.upstream, args.listen, args.access_log))
            return 0
        path = write_main(args.upstream, args.listen, args.prefix, args.workers)
    except ValueError as exc:
        parser.error(str(exc))
    prefix = args.prefix.resolve()
    print(f"wrote {path}\nrun: nginx -e stderr -p {prefix} -c {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
