"""followups: enrolments, outbox, consents, suppressions

Revision ID: 0003_followups
Revises: 0001_foundation
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import outreach.core.db

revision: str = "0003_followups"
down_revision: str | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc() -> outreach.core.db.UTCDateTime:
    return outreach.core.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "followup_enrollments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("series_id", sa.String(length=64), nullable=False),
        sa.Column("contact_id", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("sender", sa.String(length=40), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("number_enc", sa.String(length=512), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("ended_at", _utc(), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_followup_enrollments_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_followup_enrollments")),
    )
    with op.batch_alter_table("followup_enrollments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_followup_enrollments_contact", ["contact_id", "status"], unique=False
        )

    op.create_table(
        "followup_suppressions",
        sa.Column("contact_id", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("contact_id", name=op.f("pk_followup_suppressions")),
    )
    op.create_table(
        "followup_consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.String(length=64), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("series_id", sa.String(length=64), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_followup_consents_campaign_id_campaigns"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_followup_consents")),
    )
    with op.batch_alter_table("followup_consents", schema=None) as batch_op:
        batch_op.create_index(
            "ix_followup_consents_campaign", ["campaign_id", "kind"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_followup_consents_contact_id"), ["contact_id"], unique=False
        )

    op.create_table(
        "followup_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrollment_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.String(length=64), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("due_at", _utc(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claim_token", sa.String(length=32), nullable=True),
        sa.Column("lease_until", _utc(), nullable=True),
        sa.Column("message_sid", sa.String(length=64), nullable=True),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.Column("sent_at", _utc(), nullable=True),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_followup_outbox_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["enrollment_id"],
            ["followup_enrollments.id"],
            name=op.f("fk_followup_outbox_enrollment_id_followup_enrollments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_followup_outbox")),
        sa.UniqueConstraint("message_sid", name=op.f("uq_followup_outbox_message_sid")),
    )
    with op.batch_alter_table("followup_outbox", schema=None) as batch_op:
        batch_op.create_index("ix_followup_outbox_claim", ["claim_token"], unique=False)
        batch_op.create_index("ix_followup_outbox_due", ["status", "due_at"], unique=False)
        batch_op.create_index("ix_followup_outbox_enrollment", ["enrollment_id"], unique=False)


def downgrade() -> None:
    op.drop_table("followup_outbox")
    op.drop_table("followup_consents")
    op.drop_table("followup_suppressions")
    op.drop_table("followup_enrollments")
