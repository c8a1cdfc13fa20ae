"""`outreach campaigns load`: idempotent, and a changed file updates the campaigns."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from campaigns.registry.models import Campaign, CampaignNumber, Hotline, Keyword
from campaigns.registry.service import InvalidCampaignFile, load_file
from outreach.core.context import AppContext
from tests.support.app import DEMO_FILE


def counts(ctx: AppContext) -> tuple[int, int, int, int]:
    with ctx.sessions() as s:
        return tuple(  # type: ignore[return-value]
            s.scalar(select(func.count()).select_from(model)) or 0
            for model in (Campaign, CampaignNumber, Keyword, Hotline)
        )


def copy_demo(tmp_path: Path) -> Path:
    target = tmp_path / "demo"
    shutil.copytree(DEMO_FILE.parent, target)
    return target / "campaigns.yaml"


def test_loading_twice_creates_nothing_new(ctx: AppContext) -> None:
    with ctx.sessions.begin() as s:
        first = load_file(s, DEMO_FILE)
    before = counts(ctx)
    with ctx.sessions.begin() as s:
        second = load_file(s, DEMO_FILE)
    assert len(first.created) == 7 and not first.updated
    assert second.created == [] and second.updated == [] and len(second.unchanged) == 7
    assert counts(ctx) == before == (6, 6, 8, 1)


def test_changed_file_updates_the_campaigns(ctx: AppContext, tmp_path: Path) -> None:
    path = copy_demo(tmp_path)
    with ctx.sessions.begin() as s:
        load_file(s, path)
    text = path.read_text(encoding="utf-8")
    text = text.replace("cost: 1800", "cost: 2100").replace(
        "{keyword: work, language: en}", "{keyword: job, language: en}"
    )
    path.write_text(text, encoding="utf-8")
    with ctx.sessions.begin() as s:
        result = load_file(s, path)
    assert result.updated == ["AZ-FLYER-BAKU-2027"]
    with ctx.sessions() as s:
        flyer = s.scalar(select(Campaign).where(Campaign.code == "AZ-FLYER-BAKU-2027"))
        assert flyer is not None
        assert float(flyer.cost or 0) == 2100.0
        assert [k.normalized for k in flyer.keywords] == ["is", "работа", "job"]
    assert counts(ctx) == (6, 6, 8, 1)


def test_invalid_file_loads_nothing(ctx: AppContext, tmp_path: Path) -> None:
    path = copy_demo(tmp_path)
    path.write_text(
        path.read_text(encoding="utf-8").replace("medium: flyer", "medium: blimp"), encoding="utf-8"
    )
    with pytest.raises(InvalidCampaignFile) as info, ctx.sessions.begin() as s:
        load_file(s, path)
    assert any("medium" in p for p in info.value.problems)
    assert counts(ctx) == (0, 0, 0, 0)
