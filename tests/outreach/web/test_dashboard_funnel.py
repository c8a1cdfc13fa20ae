"""The voice funnel reads in menu order, each node named by its prompt in the page's language."""

from __future__ import annotations

from sqlalchemy import select

from campaigns.registry.models import Campaign
from campaigns.reports.schemas import FunnelNode
from outreach.core.context import AppContext
from outreach.web.dashboard import charts
from outreach.web.dashboard.funnel import funnel_rows


def node(node_id: str, reached: int = 10) -> FunnelNode:
    return FunnelNode(node=node_id, reached=reached, hung_up=1, no_input=0, invalid=1, went_on=8)


def test_nodes_come_in_menu_order_labelled_by_their_prompt(loaded: AppContext) -> None:
    with loaded.sessions() as session:
        radio = session.scalar(select(Campaign).where(Campaign.code == "AZ-RADIO-IDMAN-2027"))
        assert radio is not None
        # The report lists nodes by id; the menu starts at welcome, then intro, then topics.
        rows = funnel_rows(
            radio, [node("topics"), node("welcome"), node("intro")], loaded.settings, "en"
        )
    assert [r.node.node for r in rows] == ["welcome", "intro", "topics"]
    assert rows[0].label.startswith("Hello! Migration Information Centre")
    assert rows[2].label.startswith("For legal work abroad")
    assert all(len(r.label) <= 60 for r in rows)
    chart = charts.funnel(rows)
    assert [label.rstrip("…") for label in chart["data"]["labels"]] == [
        r.label[: len(label.rstrip("…"))]
        for r, label in zip(rows, chart["data"]["labels"], strict=True)
    ]
    assert all(len(label) <= 32 for label in chart["data"]["labels"])
    assert chart["options"]["scales"]["y"]["ticks"]["autoSkip"] is False


def test_labels_follow_the_page_language_and_fall_back_to_the_id(loaded: AppContext) -> None:
    with loaded.sessions() as session:
        radio = session.scalar(select(Campaign).where(Campaign.code == "AZ-RADIO-IDMAN-2027"))
        assert radio is not None
        ru = funnel_rows(radio, [node("intro"), node("gone")], loaded.settings, "ru")
    assert ru[0].label != ru[0].node.node and "Hello" not in ru[0].label
    assert [r.label for r in ru][1] == "gone"
