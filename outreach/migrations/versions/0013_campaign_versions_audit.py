"""campaign versions and the audit log; users choose their interface language

- campaigns: `version` (raised by every change, checked by every save), `loaded_version` (the
  version a campaigns file last set; NULL for rows never loaded since this revision, so a file
  may not overwrite them until loaded once with --force or while unchanged), `archived`.
- audit_entries: who changed what, before and after, when, and through which interface.
- users: `language`.

Revision ID: 0013_campaign_versions_audit
Revises: 0012_channels
Create Date: 2026-12-01 12:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_campaign_versions_audit"
down_revision: str | Sequence[str] | None = "0012_channels"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(sa.Column("loaded_version", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("archived", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    # Campaigns that exist now came from a file (the only way before the API): they count as
    # loaded at their first version.
    op.execute("UPDATE campaigns SET loaded_version = version")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=8), nullable=True))
    op.create_table(
        "audit_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("interface", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("target_kind", sa.String(length=16), nullable=False),
        sa.Column("target", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entries")),
    )
    op.create_index(op.f("ix_audit_entries_at"), "audit_entries", ["at"], unique=False)
    op.create_index(
        "ix_audit_entries_target", "audit_entries", ["target_kind", "target"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_audit_entries_target", table_name="audit_entries")
    op.drop_index(op.f("ix_audit_entries_at"), table_name="audit_entries")
    op.drop_table("audit_entries")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("language")
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_column("archived")
        batch_op.drop_column("loaded_version")
        batch_op.drop_column("version")
