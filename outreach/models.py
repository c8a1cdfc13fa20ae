"""Imports every table so the metadata (and Alembic) sees the whole schema."""

from __future__ import annotations

import campaigns.airings
import campaigns.models
import campaigns.reports.models
import campaigns.voice_models  # noqa: F401
import outreach.auth.models
import outreach.followups.models  # noqa: F401
from outreach.db import Base

metadata = Base.metadata
