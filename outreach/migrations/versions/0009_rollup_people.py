"""rollup_people: the contacts behind each count, so viewers' numbers from few people hide

Revision ID: 0009_rollup_people
Revises: 0008_sessions
Create Date: 2026-12-01 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_rollup_people"
down_revision: str | Sequence[str] | None = "0008_sessions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Filled by the rollup refresh from here on; `outreach rollups rebuild` fills the past.
    op.create_table(
        "rollup_people",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("metric", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("members", sa.LargeBinary(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "day",
            "campaign_id",
            "channel",
            "language",
            "metric",
            "key",
            name=op.f("pk_rollup_people"),
        ),
    )


def downgrade() -> None:
    op.drop_table("rollup_people")
