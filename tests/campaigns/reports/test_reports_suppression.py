"""Small cells: counts under K become "<K", and no total gives a hidden cell away."""

from __future__ import annotations

from typing import Any

from campaigns.reports.suppression import protect_channels, protect_group, protect_report


def _report(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "filter": {},
        "timezone": "Asia/Baku",
        "interactions": {"total": 120, "sms": 3, "whatsapp": 17, "voice": 100},
        "contacts": {"unique": 60, "new": 58, "returning": 2},
        "calls": {"total": 100, "completed": 40, "mean_duration": 50.0, "median_duration": 45.0},
        "funnel": [
            {
                "node": "topics",
                "reached": 50,
                "hung_up": 4,
                "no_input": 2,
                "invalid": 9,
                "went_on": 46,
            }
        ],
        "topics": [{"topic": "visas", "count": 3}, {"topic": "legal_work", "count": 30}],
        "transfers": 1,
        "followups": {"opt_ins": 4, "delivered": 20, "opt_outs": 0},
        "cost": {"amount": 100.0, "currency": "AZN", "per_contact": 1.67},
        "daily": [
            {"day": "2027-02-01", "sms": 3, "whatsapp": 0, "voice": 60},
            {"day": "2027-02-02", "sms": 0, "whatsapp": 17, "voice": 40},
        ],
    }
    base.update(over)
    return base


def test_counts_below_k_are_hidden_and_zero_and_larger_counts_shown() -> None:
    parts, total = protect_group([0, 4, 5, 12], None, 5)
    assert parts == [0, "<5", 5, 12]
    assert total is None


def test_one_hidden_part_of_a_visible_total_hides_the_next_smallest_part() -> None:
    parts, total = protect_group([3, 17, 100], 120, 5)
    assert parts == ["<5", "<5", 100]
    assert total == 120


def test_a_hidden_part_with_no_other_nonzero_part_hides_the_total() -> None:
    parts, total = protect_group([0, 6, 0], 6, 5)
    assert parts == [0, 6, 0]
    parts, total = protect_group([0, 3, 0], 7, 5)
    assert parts == [0, "<5", 0]
    assert total == "<5"


def test_two_hidden_parts_need_no_secondary_suppression() -> None:
    parts, total = protect_group([3, 2, 100], 105, 5)
    assert parts == ["<5", "<5", 100]
    assert total == 105


def test_a_report_for_viewers_hides_small_cells_everywhere() -> None:
    safe = protect_report(_report(), 5)
    assert safe["interactions"]["sms"] == "<5"
    assert safe["interactions"]["whatsapp"] == "<5"  # secondary: total - voice = sms + wa
    assert safe["interactions"]["voice"] == 100
    assert safe["contacts"]["returning"] == "<5"
    assert safe["contacts"]["new"] == "<5"  # secondary: unique - new would give returning
    node = safe["funnel"][0]
    assert node["hung_up"] == "<5" and node["went_on"] == "<5" and node["reached"] == 50
    assert node["no_input"] == "<5" and node["invalid"] == 9
    assert safe["topics"][0]["count"] == "<5"
    assert safe["transfers"] == "<5"
    assert safe["followups"] == {"opt_ins": "<5", "delivered": 20, "opt_outs": 0}
    # The day column that holds the hidden 3 SMS cannot be recovered from the SMS total.
    assert safe["daily"][0]["sms"] == "<5"


def test_derived_ratios_of_hidden_counts_are_hidden() -> None:
    safe = protect_report(
        _report(
            contacts={"unique": 3, "new": 3, "returning": 0},
            calls={"total": 2, "completed": 1, "mean_duration": 40.0, "median_duration": 40.0},
        ),
        5,
    )
    assert safe["contacts"]["unique"] == "<5"
    assert safe["cost"]["per_contact"] is None
    assert safe["calls"]["mean_duration"] is None and safe["calls"]["median_duration"] is None


def test_the_original_report_is_left_unchanged() -> None:
    report = _report()
    protect_report(report, 5)
    assert report["interactions"]["sms"] == 3


def test_channel_table_hides_small_media_and_the_next_smallest_against_the_total() -> None:
    row = {
        "campaigns": 1,
        "interactions_per_contact": 1.0,
        "calls": 0,
        "calls_completed": 0,
        "completion_rate": None,
        "cost": 10.0,
        "currency": "AZN",
        "cost_per_contact": 1.0,
    }
    table = {
        "rows": [
            {**row, "medium": "poster", "unique_contacts": 2, "interactions": 2},
            {**row, "medium": "flyer", "unique_contacts": 40, "interactions": 50},
            {**row, "medium": "radio", "unique_contacts": 90, "interactions": 150},
        ],
        "total": {**row, "medium": "total", "unique_contacts": 132, "interactions": 202},
    }
    safe = protect_channels(table, 5)
    poster, flyer, radio = safe["rows"]
    assert poster["unique_contacts"] == "<5" and poster["cost_per_contact"] is None
    assert flyer["unique_contacts"] == "<5"  # secondary
    assert radio["unique_contacts"] == 90
    assert poster["interactions"] == "<5" and flyer["interactions"] == "<5"
    assert safe["total"]["interactions"] == 202


def test_k_is_configurable() -> None:
    parts, _ = protect_group([9, 10, 30], 49, 10)
    assert parts == ["<10", "<10", 30]
