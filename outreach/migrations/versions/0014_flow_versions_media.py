"""stored voice flows: versions, the live version, recorded audio; calls keep their version

- flows: one row per flow key, with the live version's id.
- flow_versions: immutable snapshots (source and chosen recordings), numbered per flow.
- flow_audio: recordings in the media folder, each under a random token.
- flow_attachments: the stored flow a campaign's or hotline's calls run on.
- calls.flow_version_id: the version a call started on; calls.simulated: the editor's
  simulator, never counted in reports.

Revision ID: 0014_flow_versions_media
Revises: 0013_campaign_versions_audit
Create Date: 2026-12-01 12:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from outreach.core.db import UTCDateTime

revision: str = "0014_flow_versions_media"
down_revision: str | Sequence[str] | None = "0013_campaign_versions_audit"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "flows",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("live_version_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("key", name=op.f("uq_flows_key")),
    )
    op.create_table(
        "flow_versions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "flow_id",
            sa.Integer(),
            sa.ForeignKey(
                "flows.id", name=op.f("fk_flow_versions_flow_id_flows"), ondelete="CASCADE"
            ),
            nullable=False,
        ),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("audio", sa.JSON(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("flow_id", "number", name=op.f("uq_flow_versions_flow_id")),
    )
    op.create_index(op.f("ix_flow_versions_flow_id"), "flow_versions", ["flow_id"])
    op.create_table(
        "flow_audio",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "flow_id",
            sa.Integer(),
            sa.ForeignKey("flows.id", name=op.f("fk_flow_audio_flow_id_flows"), ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("slot", sa.String(length=200), nullable=False),
        sa.Column("bytes", sa.Integer(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("token", name=op.f("uq_flow_audio_token")),
    )
    op.create_index(op.f("ix_flow_audio_flow_id"), "flow_audio", ["flow_id"])
    op.create_table(
        "flow_attachments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "flow_id",
            sa.Integer(),
            sa.ForeignKey(
                "flows.id", name=op.f("fk_flow_attachments_flow_id_flows"), ondelete="CASCADE"
            ),
            nullable=False,
        ),
        sa.Column(
            "campaign_id",
            sa.Integer(),
            sa.ForeignKey(
                "campaigns.id",
                name=op.f("fk_flow_attachments_campaign_id_campaigns"),
                ondelete="CASCADE",
            ),
            nullable=True,
        ),
        sa.Column(
            "hotline_id",
            sa.Integer(),
            sa.ForeignKey(
                "hotlines.id",
                name=op.f("fk_flow_attachments_hotline_id_hotlines"),
                ondelete="CASCADE",
            ),
            nullable=True,
        ),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("campaign_id", name=op.f("uq_flow_attachments_campaign_id")),
        sa.UniqueConstraint("hotline_id", name=op.f("uq_flow_attachments_hotline_id")),
    )
    op.create_index(op.f("ix_flow_attachments_flow_id"), "flow_attachments", ["flow_id"])
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("flow_version_id", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("simulated", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.create_foreign_key(
            op.f("fk_calls_flow_version_id_flow_versions"),
            "flow_versions",
            ["flow_version_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.drop_constraint(op.f("fk_calls_flow_version_id_flow_versions"), type_="foreignkey")
        batch.drop_column("simulated")
        batch.drop_column("flow_version_id")
    op.drop_index(op.f("ix_flow_attachments_flow_id"), table_name="flow_attachments")
    op.drop_table("flow_attachments")
    op.drop_index(op.f("ix_flow_audio_flow_id"), table_name="flow_audio")
    op.drop_table("flow_audio")
    op.drop_index(op.f("ix_flow_versions_flow_id"), table_name="flow_versions")
    op.drop_table("flow_versions")
    op.drop_table("flows")
