"""integrity under concurrency: one running enrolment per series, whole provider ids

- followup_enrollments: duplicate running enrolments (two YES texts at once) are cancelled,
  keeping the first; then a partial unique index allows one running enrolment per
  (campaign, series, contact).
- Provider ids (MessageSid, CallSid) widen from 64 to 255 characters (longer ones are stored
  hashed, see outreach.core.db.ProviderSid).
- interactions: unique per (external_sid, contact_id) instead of external_sid alone, so an id
  reused for another sender is a new message.

Revision ID: 0010_integrity
Revises: 0009_rollup_people
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from alembic.operations import BatchOperations

revision: str = "0010_integrity"
down_revision: str | Sequence[str] | None = "0009_rollup_people"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE = sa.text("status = 'active'")
# Running enrolments with an older running twin (same campaign, series and contact) are the
# duplicates: their messages not sent yet are cancelled, then they end (number erased).
_TWINS = sa.text(
    """
    SELECT e.id FROM followup_enrollments e
    WHERE e.status = 'active' AND EXISTS (
        SELECT 1 FROM followup_enrollments f
        WHERE f.status = 'active' AND f.campaign_id = e.campaign_id
          AND f.series_id = e.series_id AND f.contact_id = e.contact_id AND f.id < e.id
    )
    """
)
# (table, provider id columns and whether each is nullable)
SIDS: tuple[tuple[str, tuple[tuple[str, bool], ...]], ...] = (
    ("calls", (("call_sid", False),)),
    ("call_callbacks", (("missed_call_sid", False), ("call_sid", True))),
    ("followup_outbox", (("message_sid", True),)),
)


def upgrade() -> None:
    bind = op.get_bind()
    twins = [row[0] for row in bind.execute(_TWINS)]
    outbox = sa.table(
        "followup_outbox",
        sa.column("enrollment_id"),
        sa.column("status"),
        sa.column("claim_token"),
        sa.column("updated_at"),
    )
    enrollments = sa.table(
        "followup_enrollments",
        sa.column("id"),
        sa.column("status"),
        sa.column("number_enc"),
        sa.column("ended_at"),
    )
    if twins:
        bind.execute(
            outbox.update()
            .where(outbox.c.enrollment_id.in_(twins), outbox.c.status.in_(["pending", "claimed"]))
            .values(status="cancelled", claim_token=None, updated_at=sa.func.current_timestamp())
        )
        bind.execute(
            enrollments.update()
            .where(enrollments.c.id.in_(twins))
            .values(status="cancelled", number_enc=None, ended_at=sa.func.current_timestamp())
        )
    op.create_index(
        "uq_followup_enrollments_active",
        "followup_enrollments",
        ["campaign_id", "series_id", "contact_id"],
        unique=True,
        sqlite_where=ACTIVE,
        postgresql_where=ACTIVE,
    )
    with op.batch_alter_table("interactions", schema=None) as batch_op:
        _alter(batch_op, "external_sid", False, 64, 255)
        batch_op.drop_constraint("uq_interactions_external_sid", type_="unique")
        batch_op.create_unique_constraint(
            "uq_interactions_sid_contact", ["external_sid", "contact_id"]
        )
    for table, columns in SIDS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column, nullable in columns:
                _alter(batch_op, column, nullable, 64, 255)


def downgrade() -> None:
    # Fails on PostgreSQL if an id longer than 64 characters was stored since.
    for table, columns in SIDS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column, nullable in columns:
                _alter(batch_op, column, nullable, 255, 64)
    with op.batch_alter_table("interactions", schema=None) as batch_op:
        batch_op.drop_constraint("uq_interactions_sid_contact", type_="unique")
        batch_op.create_unique_constraint("uq_interactions_external_sid", ["external_sid"])
        _alter(batch_op, "external_sid", False, 255, 64)
    op.drop_index("uq_followup_enrollments_active", table_name="followup_enrollments")


def _alter(batch_op: BatchOperations, column: str, nullable: bool, old: int, new: int) -> None:
    batch_op.alter_column(
        column,
        existing_type=sa.String(length=old),
        type_=sa.String(length=new),
        existing_nullable=nullable,
    )
