"""Imports every table so the metadata (and Alembic) sees the whole schema."""

from __future__ import annotations

import campaigns.airings.service
import campaigns.audit.models
import campaigns.flows.models
import campaigns.followups.models
import campaigns.registry.models
import campaigns.reports.models
import campaigns.sms.models
import campaigns.voice.models  # noqa: F401
import outreach.core.scheduling
import outreach.web.auth.models  # noqa: F401
from outreach.core.db import Base

metadata = Base.metadata
