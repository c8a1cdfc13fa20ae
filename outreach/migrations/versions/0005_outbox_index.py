"""merge the feature branches; index followup_outbox.updated_at for the report refresh

Revision ID: 0005_outbox_index
Revises: 0002_voice, 0003_followups, 0004_reports_daily
Create Date: 2026-11-28 05:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005_outbox_index"
# A merge: the history has one head again (the index needs the followups branch anyway).
down_revision: str | Sequence[str] | None = ("0002_voice", "0003_followups", "0004_reports_daily")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The deliveries source finds outbox rows updated since the last refresh (status callbacks).
    with op.batch_alter_table("followup_outbox", schema=None) as batch_op:
        batch_op.create_index("ix_followup_outbox_updated", ["updated_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("followup_outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_followup_outbox_updated")
