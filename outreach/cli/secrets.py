"""`outreach secrets generate`: fresh values for every secret of a deployment, as env lines."""

from __future__ import annotations

import secrets

import typer

from outreach.core.settings import env_name, generate_secrets

secrets_app = typer.Typer(help="Secrets for a deployment.", no_args_is_help=True)

HEADER = (
    "# Outreach secrets from `outreach secrets generate`. Keep them out of version control.",
    "# Never change OUTREACH_HASH_KEY once a deployment counts contacts: each would split in two;",
    "# a new OUTREACH_ENCRYPTION_KEY makes the numbers of pending follow-ups unreadable.",
)
TWILIO_TOKEN_NOTE = (
    "# TWILIO_AUTH_TOKEN is Twilio's, not generated: copy it from the Twilio console",
    "# (Account info, Auth Token) and uncomment:",
    f"# {env_name('twilio_auth_token')}=",
)
POSTGRES_NOTE = "# The PostgreSQL password compose.yaml gives the database and the service:"
METRICS_NOTE = "# The bearer token Prometheus sends to /metrics (empty: /metrics answers 404):"
GATEWAYS_NOTE = "# Kannel's URL secret and sendsms password, the HTTP channel's URL secret:"
GATEWAY_SECRETS = ("kannel_secret", "kannel_password", "http_channel_secret")


def secret_lines() -> list[str]:
    """Returns the env lines: the service's secrets, fresh, and a note for Twilio's token."""
    fresh = [f"{env_name(name)}={value}" for name, value in generate_secrets().items()]
    postgres = f"POSTGRES_PASSWORD={secrets.token_urlsafe(24)}"
    metrics = f"{env_name('metrics_token')}={secrets.token_urlsafe(32)}"
    # URL-safe: the Kannel secret is written into kannel.conf's get-url as it is.
    gateways = [f"{env_name(name)}={secrets.token_urlsafe(24)}" for name in GATEWAY_SECRETS]
    return [
        *HEADER,
        *TWILIO_TOKEN_NOTE,
        *fresh,
        METRICS_NOTE,
        metrics,
        GATEWAYS_NOTE,
        *gateways,
        POSTGRES_NOTE,
        postgres,
    ]


@secrets_app.command("generate")
def generate() -> None:
    """Print fresh secrets as env lines, for example `outreach secrets generate >> .env`."""
    typer.echo("\n".join(secret_lines()))
