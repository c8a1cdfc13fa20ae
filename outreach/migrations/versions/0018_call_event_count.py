"""a call counts its events

- calls.events: the number of rows in the call's event trail, the next event's position
  (a voice step read it with a count query before), filled in for existing calls.

Revision ID: 0018_call_event_count
Revises: 0017_callback_claims
Create Date: 2026-12-01 19:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_call_event_count"
down_revision: str | Sequence[str] | None = "0017_callback_claims"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("events", sa.Integer(), server_default="0", nullable=False))
    op.execute(
        "UPDATE calls SET events = "
        "(SELECT count(*) FROM call_events WHERE call_events.call_id = calls.id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("events")
