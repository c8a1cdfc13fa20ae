"""`outreach flows import|publish`: flow files become stored versions; calls then run on them."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from outreach.cli import app
from tests.support.flows import DEMO_FLOWS

DEMO = Path(__file__).resolve().parents[3] / "campaigns" / "demo" / "campaigns.yaml"


def test_import_attaches_the_hotline_and_publish_switches_versions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OUTREACH_DATABASE_URL", f"sqlite:///{tmp_path}/demo.db")
    monkeypatch.setenv("OUTREACH_DEMO", "1")
    monkeypatch.delenv("TWILIO_AUTH_TOKEN", raising=False)
    runner = CliRunner()
    assert runner.invoke(app, ["campaigns", "load", str(DEMO)]).exit_code == 0
    changed = tmp_path / "hotline.yaml"
    text = (DEMO_FLOWS / "hotline.yaml").read_text(encoding="utf-8")
    imported = runner.invoke(app, ["flows", "import", str(DEMO_FLOWS / "hotline.yaml")])
    assert imported.exit_code == 0, imported.output
    assert "saved as version 1" in imported.output and "+994125550100" in imported.output
    changed.write_text(text.replace("Thank you for calling. Goodbye!", "Bye from version 2."))
    assert "saved as version 2" in runner.invoke(app, ["flows", "import", str(changed)]).output
    keys = ["call", "--in-process", "--to", "+994125550100", "--keys", "3,,5,9"]
    assert "Thank you for calling. Goodbye!" in runner.invoke(app, keys).output  # v1 is live
    published = runner.invoke(app, ["flows", "publish", "hotline", "2"])
    assert published.exit_code == 0, published.output
    assert "Bye from version 2." in runner.invoke(app, keys).output
    missing = runner.invoke(app, ["flows", "publish", "hotline", "9"])
    assert missing.exit_code == 1 and "no version 9" in missing.output
