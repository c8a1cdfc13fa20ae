"""The demo: its campaigns, seeded traffic, and the no-phone clients (`outreach text`, `call`)."""

from __future__ import annotations

from pathlib import Path

import campaigns

DEMO_FILE = Path(campaigns.__file__).resolve().parent / "demo" / "campaigns.yaml"
