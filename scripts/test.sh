#!/usr/bin/env bash
# Installs everything the tests need (venv, Python packages, the Prism mock, Chromium),
# then runs lint, types, the migration check and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."

PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null 2>&1 || PY=python3
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# Pinned versions (constraints.txt, from a working venv), so CI installs what was tested.
.venv/bin/python -m pip install -q -c constraints.txt -e '.[test]'

if [ -f package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

# Debian tools the tests drive: chromium (browser tests), nginx (deployment tests), wrk (the
# webhook benchmark's smoke test), kannel and kannel-extras (bearerbox, smsbox and fakesmsc for
# the Kannel end-to-end tests). One apt-get for whatever is missing; without root, the tests
# that need a missing tool skip.
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -x /usr/sbin/nginx ] || need+=(nginx)
command -v wrk >/dev/null 2>&1 || need+=(wrk)
[ -x /usr/sbin/bearerbox ] && [ -x /usr/sbin/smsbox ] || need+=(kannel)
[ -x /usr/lib/kannel/test/fakesmsc ] || need+=(kannel-extras)
# sox + its MP3 format: the flow editor normalises uploaded recordings with it.
command -v sox >/dev/null 2>&1 || need+=(sox libsox-fmt-mp3)
if [ "${#need[@]}" -gt 0 ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian packages for the tests: ${need[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "not root: tests that need ${need[*]} will be skipped"
  fi
fi

echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "== mypy"
.venv/bin/mypy
echo "== import rules"
.venv/bin/lint-imports
echo "== alembic check"
.venv/bin/outreach db check
echo "== pytest"
# Two xdist workers by default (this machine has 2 cores); OUTREACH_TEST_WORKERS=0 runs serially.
.venv/bin/pytest -q -n "${OUTREACH_TEST_WORKERS:-2}" "$@"
