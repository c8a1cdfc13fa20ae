"""channels: the gateway that carried each interaction (Twilio, Kannel, an HTTP aggregator)

Existing rows came through Twilio, the only gateway before this revision.

Revision ID: 0012_channels
Revises: 0011_registry_version
Create Date: 2026-12-01 12:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_channels"
down_revision: str | Sequence[str] | None = "0011_registry_version"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("interactions") as batch:
        batch.add_column(
            sa.Column("gateway", sa.String(16), nullable=False, server_default="twilio")
        )


def downgrade() -> None:
    with op.batch_alter_table("interactions") as batch:
        batch.drop_column("gateway")
