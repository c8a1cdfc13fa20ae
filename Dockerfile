# syntax=docker/dockerfile:1
# Outreach service image: `docker build -t outreach .`
# Stage 1 builds wheels for the project and every dependency; stage 2 installs them into a slim
# Python 3.11 runtime with no compiler, no source tree and no secrets. Configuration comes from
# the environment at run time (see .env.example and compose.yaml).

FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
# Only what the wheel is built from (.dockerignore keeps out tests, venvs, databases and .env).
COPY pyproject.toml README.md constraints.txt ./
COPY outreach ./outreach
COPY campaigns ./campaigns
COPY webhooks ./webhooks
COPY ivr_flows ./ivr_flows
# The `postgres` extra: the image runs against PostgreSQL (compose.yaml) as well as SQLite.
# The versions CI tested (constraints.txt), so the image runs what the tests ran.
RUN pip wheel --wheel-dir /wheels -c constraints.txt '.[postgres]'

FROM python:3.11-slim-bookworm AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    OUTREACH_HOST=0.0.0.0 \
    OUTREACH_PORT=8000
# SoX normalises uploaded voice recordings (the flow editor) to 8 kHz mono WAV.
RUN apt-get update \
    && apt-get install -y --no-install-recommends sox libsox-fmt-mp3 \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 outreach \
    && useradd --system --uid 10001 --gid outreach --home-dir /var/lib/outreach \
       --shell /usr/sbin/nologin outreach \
    && install -d -o outreach -g outreach -m 0750 /var/lib/outreach \
    && install -d -m 0755 /etc/outreach
# The wheels are bind-mounted from the build stage, so no layer keeps them.
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-index --find-links=/wheels 'outreach[postgres]'

# Data: a SQLite database when OUTREACH_DATABASE_URL is not PostgreSQL, exports, and anything
# else the service writes. Campaign files and their flows are mounted read-only under
# /etc/outreach (OUTREACH_CAMPAIGNS_FILE=/etc/outreach/campaigns/campaigns.yaml).
VOLUME ["/var/lib/outreach"]
WORKDIR /var/lib/outreach
USER outreach:outreach
EXPOSE 8000

# Liveness on /healthz, with the standard library (the slim image has no curl).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('OUTREACH_PORT', '8000'), timeout=4)"]

ENTRYPOINT ["outreach"]
CMD ["serve"]
