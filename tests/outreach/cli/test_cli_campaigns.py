"""`outreach campaigns validate` reports every error in one pass, with follow-up segment counts."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from outreach.cli import app
from tests.support.app import DEMO_FILE

BROKEN = """\
version: 1
campaigns:
  - code: BAD-MEDIUM
    name: a schema error
    medium: billboard
    languages: [az]
    start: 2027-01-01
    end: 2027-02-01
  - code: FLYER-A
    name: first flyer
    medium: flyer
    languages: [az]
    start: 2027-01-01
    end: 2027-02-01
    numbers: ["+994502000101"]
    keywords: [{keyword: ish, language: az}]
    replies: {az: "salam"}
  - code: FLYER-B
    name: second flyer, same keyword
    medium: flyer
    languages: [az]
    start: 2027-01-01
    end: 2027-02-01
    numbers: ["+994502000101"]
    keywords: [{keyword: ish, language: az}]
    replies: {az: "salam"}
"""


def test_schema_errors_and_cross_checks_are_reported_in_one_pass(tmp_path: Path) -> None:
    path = tmp_path / "campaigns.yaml"
    path.write_text(BROKEN, encoding="utf-8")
    result = CliRunner().invoke(app, ["campaigns", "validate", str(path)])
    assert result.exit_code == 1
    said = " ".join(result.output.split())
    assert "campaigns[0].medium" in said and "billboard" in said  # the schema error
    assert "campaigns[2]" in said and "'ish'" in said  # the cross-check, in the same run
    assert "2 error(s)" in said, said


def test_validate_prints_segment_counts_of_follow_up_texts() -> None:
    result = CliRunner().invoke(app, ["campaigns", "validate", str(DEMO_FILE)])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "AZ-RADIO-IDMAN-2027 follow-up info #1 [az]: 2 segment(s), UCS-2" in said
    assert "AZ-RADIO-IDMAN-2027 follow-up info #1 [en]: 1 segment(s), GSM-7" in said
