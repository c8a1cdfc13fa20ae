"""reports: daily rollups summed from the hourly ones (what reports read)

Revision ID: 0004_reports_daily
Revises: 0004_reports
Create Date: 2026-11-28 03:52:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_reports_daily"
down_revision: str | None = "0004_reports"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rollup_daily",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("metric", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "day",
            "campaign_id",
            "channel",
            "language",
            "metric",
            "key",
            name=op.f("pk_rollup_daily"),
        ),
    )
    # Existing hourly rollups have no daily sums yet: empty them so the next refresh (or
    # `outreach rollups rebuild`) recounts from the raw log.
    op.execute("DELETE FROM rollup_state")
    op.execute("DELETE FROM rollup_counts")
    op.execute("DELETE FROM rollup_sets")
    op.execute("DELETE FROM report_contacts")


def downgrade() -> None:
    op.drop_table("rollup_daily")
