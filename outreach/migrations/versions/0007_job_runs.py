"""job_runs: the last tick each background job was claimed for, and how its last run went

Revision ID: 0007_job_runs
Revises: 0005_outbox_index
Create Date: 2026-12-01 08:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import outreach.core.db

revision: str = "0007_job_runs"
down_revision: str | Sequence[str] | None = "0005_outbox_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "job_runs",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("last_tick", sa.BigInteger(), nullable=False),
        sa.Column("last_started_at", outreach.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_success_at", outreach.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_job_runs")),
    )


def downgrade() -> None:
    op.drop_table("job_runs")
