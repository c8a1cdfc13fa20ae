"""Series timing: offsets, local send times, quiet hours; and validation of the YAML block."""

from __future__ import annotations

from datetime import time, timedelta

import pytest

from campaigns.followups.schedule import QuietHours, due_times
from campaigns.registry.series import FollowupsSpec, parse_offset, validate_followups
from tests.support.followups import SERIES, baku

QUIET = QuietHours(time(22, 0), time(8, 0))
ZONE = "Asia/Baku"


def test_a_message_due_at_23_00_baku_moves_to_08_00_the_next_morning() -> None:
    assert QUIET.next_allowed(baku(2027, 3, 1, 23, 0), ZONE) == baku(2027, 3, 2, 8, 0)


def test_a_message_due_after_midnight_moves_to_08_00_the_same_morning() -> None:
    assert QUIET.next_allowed(baku(2027, 3, 2, 3, 15), ZONE) == baku(2027, 3, 2, 8, 0)


@pytest.mark.parametrize("hour,minute", [(8, 0), (12, 0), (21, 59)])
def test_a_message_due_outside_quiet_hours_keeps_its_time(hour: int, minute: int) -> None:
    moment = baku(2027, 3, 1, hour, minute)
    assert QUIET.next_allowed(moment, ZONE) == moment


def test_quiet_hours_within_one_day_are_supported() -> None:
    lunch = QuietHours(time(13, 0), time(14, 0))
    assert lunch.next_allowed(baku(2027, 3, 1, 13, 30), ZONE) == baku(2027, 3, 1, 14, 0)
    assert lunch.next_allowed(baku(2027, 3, 1, 14, 0), ZONE) == baku(2027, 3, 1, 14, 0)


def test_series_due_times_follow_offsets_and_local_send_times() -> None:
    series = FollowupsSpec.model_validate(SERIES).series[0]
    dues = due_times(series, opted_in_at=baku(2027, 3, 1, 15, 0), zone=ZONE, quiet=QUIET)
    assert dues == [baku(2027, 3, 1, 15, 0), baku(2027, 3, 3, 10, 0), baku(2027, 3, 8, 10, 0)]


def test_an_opt_in_at_night_gets_its_first_message_at_08_00() -> None:
    series = FollowupsSpec.model_validate(SERIES).series[0]
    dues = due_times(series, opted_in_at=baku(2027, 3, 1, 23, 0), zone=ZONE, quiet=QUIET)
    assert dues[0] == baku(2027, 3, 2, 8, 0)
    assert dues[1] == baku(2027, 3, 3, 10, 0)


@pytest.mark.parametrize(
    "text,expected",
    [
        ("0", timedelta(0)),
        ("+30m", timedelta(minutes=30)),
        ("+2h", timedelta(hours=2)),
        ("+2d", timedelta(days=2)),
        ("+1w", timedelta(weeks=1)),
    ],
)
def test_offsets_parse(text: str, expected: timedelta) -> None:
    assert parse_offset(text) == expected


@pytest.mark.parametrize("text", ["+2", "tomorrow", "-1d", "+2y"])
def test_bad_offsets_are_rejected(text: str) -> None:
    with pytest.raises(ValueError):
        parse_offset(text)


def test_validation_accepts_a_complete_series() -> None:
    assert validate_followups({"followups": SERIES}, ["az", "ru", "en"]) == []
    assert validate_followups({}, ["az"]) == []


def test_validation_reports_missing_languages_bad_offsets_and_order_with_locations() -> None:
    entry = {
        "followups": {
            "series": [
                {
                    "id": "info",
                    "messages": [
                        {"offset": "+2d", "text": {"az": "a"}},
                        {"offset": "0", "text": {"az": "b", "de": "c"}},
                    ],
                },
                {"id": "info", "messages": [{"offset": "+2", "text": {"az": "x", "ru": "y"}}]},
            ]
        }
    }
    problems = validate_followups(entry, ["az", "ru"])
    found = {(loc, msg) for loc, msg in problems}
    assert (
        ("followups", "series", 1, "messages", 0, "offset"),
        "offset '+2' needs a unit: m, h, d or w",
    ) in found
    problems = validate_followups(
        {"followups": {"series": entry["followups"]["series"][:1] * 2}}, ["az", "ru"]
    )
    messages = [(loc, msg) for loc, msg in problems]
    assert (
        ("followups", "series", 0, "messages", 0, "text"),
        "text missing for language 'ru'",
    ) in messages
    assert (
        ("followups", "series", 0, "messages", 1, "text", "de"),
        "text in undeclared language 'de'",
    ) in messages
    assert (
        ("followups", "series", 0, "messages", 1, "offset"),
        "offsets must not go backwards",
    ) in messages
    assert (("followups", "series", 1, "id"), "duplicate series id 'info'") in messages


def test_validation_accepts_yaml_sexagesimal_times() -> None:
    # Unquoted 10:00 in YAML 1.1 arrives as the integer 600.
    entry = {
        "followups": {
            "series": [{"id": "a", "messages": [{"offset": "+1d", "at": 600, "text": {"az": "x"}}]}]
        }
    }
    assert validate_followups(entry, ["az"]) == []
    spec = FollowupsSpec.model_validate(entry["followups"])
    assert spec.series[0].messages[0].at == "10:00"


def test_campaigns_validate_reports_series_problems_with_their_line() -> None:
    from pathlib import Path

    from campaigns.registry.validation import validate_text

    yaml_text = """\
campaigns:
  - code: FU-1
    name: test
    medium: flyer
    languages: [az, ru]
    start: 2027-01-01
    end: 2027-02-01
    followups:
      series:
        - id: info
          messages:
            - offset: "0"
              text: {az: "Salam"}
            - offset: soon
              text: {az: "a", ru: "b"}
"""
    report = validate_text(yaml_text, Path("campaigns.yaml"))
    problems = [str(p) for p in report.problems]
    assert any(
        p.startswith("line 13: ") and "text missing for language 'ru'" in p for p in problems
    ), problems
    assert any(p.startswith("line 14: ") and "offset 'soon'" in p for p in problems), problems
