"""the reply outbox of gateways that answer through a send API

- sms_replies: one reply per inbound message (interaction), its number and text sealed while
  it is pending or being sent, retried with backoff, erased once sent or failed for good.

Revision ID: 0019_sms_replies
Revises: 0018_call_event_count
Create Date: 2026-12-02 15:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from outreach.core.db import SID_LENGTH, UTCDateTime

revision: str = "0019_sms_replies"
down_revision: str | Sequence[str] | None = "0018_call_event_count"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sms_replies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("interaction_id", sa.Integer(), nullable=False),
        sa.Column("gateway", sa.String(length=16), nullable=False),
        sa.Column("contact_id", sa.String(length=64), nullable=False),
        sa.Column("from_number", sa.String(length=32), nullable=False),
        sa.Column("sealed_number", sa.Text(), nullable=True),
        sa.Column("sealed_text", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("due_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", UTCDateTime(timezone=True), nullable=True),
        sa.Column("message_sid", sa.String(length=SID_LENGTH), nullable=True),
        sa.Column("error", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["interaction_id"],
            ["interactions.id"],
            name=op.f("fk_sms_replies_interaction_id_interactions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_replies")),
        sa.UniqueConstraint("interaction_id", name=op.f("uq_sms_replies_interaction_id")),
    )
    op.create_index("ix_sms_replies_due", "sms_replies", ["status", "due_at"])


def downgrade() -> None:
    op.drop_index("ix_sms_replies_due", table_name="sms_replies")
    op.drop_table("sms_replies")
