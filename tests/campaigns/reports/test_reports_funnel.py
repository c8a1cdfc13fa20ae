"""The voice funnel: every node the caller passes through balances (reached = on + hung up)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from campaigns.reports import service
from campaigns.reports.filters import ReportFilter
from campaigns.voice.models import CallEvent
from ivr_flows.loader import load_flow
from ivr_flows.model import TERMINAL_KINDS, NodeKind
from outreach.core.context import AppContext
from tests.support.app import ROOT
from tests.support.reports import SEED_END, seed_demo

FLOWS = ROOT / "campaigns" / "demo" / "flows"


def test_every_non_final_node_balances_in_the_funnel_of_a_seeded_demo(
    loaded: AppContext,
) -> None:
    seed_demo(loaded, days=3)
    kinds = {
        node.id: node.kind
        for name in ("radio.yaml", "hotline.yaml")
        for node in load_flow(FLOWS / name).nodes.values()
    }
    with loaded.sessions.begin() as session:
        report = service.report(
            session,
            settings=loaded.settings,
            now=datetime.now(UTC),
            flt=ReportFilter(start=(SEED_END - timedelta(days=4)).date(), end=SEED_END.date()),
            exact=True,
        )
        direct = Counter(
            (node, kind) for node, kind in session.execute(select(CallEvent.node, CallEvent.kind))
        )
    funnel = {row["node"]: row for row in report["funnel"]}
    messages = [n for n, k in kinds.items() if k is NodeKind.MESSAGE and n in funnel]
    assert len(messages) >= 5  # intro, legal, contracts, visas, trafficking, centres
    for node, row in funnel.items():
        assert row["reached"] == direct[(node, "entered")]
        assert row["went_on"] == direct[(node, "went_on")]
        if kinds[node] not in TERMINAL_KINDS:
            assert row["reached"] == row["went_on"] + row["hung_up"] > 0, row
    for node in messages:
        assert funnel[node]["went_on"] == funnel[node]["reached"]
