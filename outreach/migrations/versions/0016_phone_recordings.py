"""recording prompts by phone: one-time codes and pending recordings

- flow_recording_codes: a code's HMAC, its flow, slot, manager, expiry and the call that
  spent it (HMACs of the CallSid and the caller, never the number).
- flow_pending_recordings: recordings made by phone, waiting for a manager (one per
  Twilio RecordingSid).
- flow_studio_failures: wrong codes per caller HMAC in the current hour (across calls).

Revision ID: 0016_phone_recordings
Revises: 0014_flow_versions_media
Create Date: 2026-12-01 14:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from outreach.core.db import UTCDateTime

revision: str = "0016_phone_recordings"
down_revision: str | Sequence[str] | None = "0014_flow_versions_media"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _flow_id(table: str) -> sa.Column[int]:
    return sa.Column(
        "flow_id",
        sa.Integer(),
        sa.ForeignKey("flows.id", name=op.f(f"fk_{table}_flow_id_flows"), ondelete="CASCADE"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "flow_recording_codes",
        sa.Column("id", sa.Integer(), primary_key=True),
        _flow_id("flow_recording_codes"),
        sa.Column("slot", sa.String(length=200), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.Column("call_hash", sa.String(length=64), nullable=True),
        sa.Column("caller_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("code_hash", name=op.f("uq_flow_recording_codes_code_hash")),
    )
    op.create_index(op.f("ix_flow_recording_codes_flow_id"), "flow_recording_codes", ["flow_id"])
    op.create_table(
        "flow_pending_recordings",
        sa.Column("id", sa.Integer(), primary_key=True),
        _flow_id("flow_pending_recordings"),
        sa.Column(
            "code_id",
            sa.Integer(),
            sa.ForeignKey(
                "flow_recording_codes.id",
                name=op.f("fk_flow_pending_recordings_code_id_flow_recording_codes"),
                ondelete="SET NULL",
            ),
            nullable=True,
        ),
        sa.Column("slot", sa.String(length=200), nullable=False),
        sa.Column("recording_sid", sa.String(length=64), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("bytes", sa.Integer(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("caller_hash", sa.String(length=64), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("recording_sid", name=op.f("uq_flow_pending_recordings_recording_sid")),
    )
    op.create_index(
        op.f("ix_flow_pending_recordings_flow_id"), "flow_pending_recordings", ["flow_id"]
    )
    op.create_table(
        "flow_studio_failures",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("caller_hash", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_start", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("caller_hash", name=op.f("uq_flow_studio_failures_caller_hash")),
    )


def downgrade() -> None:
    op.drop_table("flow_studio_failures")
    op.drop_index(op.f("ix_flow_pending_recordings_flow_id"), table_name="flow_pending_recordings")
    op.drop_table("flow_pending_recordings")
    op.drop_index(op.f("ix_flow_recording_codes_flow_id"), table_name="flow_recording_codes")
    op.drop_table("flow_recording_codes")
