"""callbacks are claimed before they are placed

- call_callbacks.claimed_until: the lease of the worker placing a callback (status
  "placing"), committed before the gateway is called so that no transaction is held across
  the network call; a claim past its lease is placed again.

Revision ID: 0017_callback_claims
Revises: 0016_phone_recordings
Create Date: 2026-12-01 19:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from outreach.core.db import UTCDateTime

revision: str = "0017_callback_claims"
down_revision: str | Sequence[str] | None = "0016_phone_recordings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("call_callbacks") as batch:
        batch.add_column(sa.Column("claimed_until", UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("call_callbacks") as batch:
        batch.drop_column("claimed_until")
