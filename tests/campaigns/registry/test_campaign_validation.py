"""`outreach campaigns validate`: every error, with its location, and segment counts."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from campaigns.registry.validation import validate_file
from outreach.cli import app
from tests.support.app import ROOT

GOOD = """\
version: 1
campaigns:
  - code: AZ-FLYER-TEST
    name: Flyer
    medium: flyer
    languages: [az, ru]
    start: 2027-01-01
    end: 2027-02-01
    numbers: ["+994502000101"]
    keywords:
      - {keyword: iş, language: az}
      - {keyword: работа, language: ru}
    replies:
      az: "Xaricdə iş? Pulsuz məlumat: +994125550100"
      ru: "Работа за рубежом? Звоните +994125550100"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "campaigns.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def messages(tmp_path: Path, text: str) -> list[str]:
    return [str(p) for p in validate_file(write(tmp_path, text)).problems]


def test_good_file_validates_with_segment_counts(tmp_path: Path) -> None:
    report = validate_file(write(tmp_path, GOOD))
    assert report.ok, report.problems
    assert "AZ-FLYER-TEST reply [az]: 1 segment(s), UCS-2, 41 units" in report.notes


def test_same_keyword_on_same_number_in_two_campaigns_is_an_error(tmp_path: Path) -> None:
    second = GOOD.split("campaigns:\n", 1)[1].replace("AZ-FLYER-TEST", "AZ-NEWS-TEST")
    second = second.replace("{keyword: работа", "{keyword: газета")
    errors = messages(tmp_path, GOOD + second)
    assert len(errors) == 1
    assert "line 24: campaigns[1].keywords[0].keyword" in errors[0]
    assert "already used by campaign AZ-FLYER-TEST" in errors[0]


def test_keyword_matching_forms_collide_too(tmp_path: Path) -> None:
    text = GOOD.replace("{keyword: работа, language: ru}", "{keyword: IS, language: ru}")
    errors = messages(tmp_path, text)
    assert any("keyword 'IS'" in e and "already used by this campaign" in e for e in errors)


def test_unknown_medium_is_reported_with_its_line(tmp_path: Path) -> None:
    errors = messages(tmp_path, GOOD.replace("medium: flyer", "medium: billboard"))
    assert len(errors) == 1
    assert errors[0].startswith("line 5: campaigns[0].medium:")
    assert "'billboard'" in errors[0]


def test_invalid_phone_number_is_reported(tmp_path: Path) -> None:
    errors = messages(tmp_path, GOOD.replace("+994502000101", "+99450"))
    assert len(errors) == 1
    assert "campaigns[0].numbers[0]" in errors[0] and "invalid phone number" in errors[0]


def test_reply_missing_for_declared_language_is_reported(tmp_path: Path) -> None:
    text = GOOD.replace('      ru: "Работа за рубежом? Звоните +994125550100"\n', "")
    errors = messages(tmp_path, text)
    assert errors == ["line 13: campaigns[0].replies: reply missing for declared language 'ru'"]


def test_date_range_ending_before_start_is_reported(tmp_path: Path) -> None:
    errors = messages(tmp_path, GOOD.replace("end: 2027-02-01", "end: 2026-12-01"))
    assert len(errors) == 1
    assert errors[0].startswith("line 8: campaigns[0].end: date range ends (2026-12-01)")


def test_several_errors_are_all_reported(tmp_path: Path) -> None:
    text = GOOD.replace("medium: flyer", "medium: blimp").replace("+994502000101", "12")
    assert len(messages(tmp_path, text)) == 2


def test_not_yaml_is_reported_with_a_line(tmp_path: Path) -> None:
    errors = messages(tmp_path, "campaigns: [\n  - code: X\n bad")
    assert len(errors) == 1 and "not valid YAML" in errors[0]


def test_cli_validate_exits_non_zero_and_prints_locations(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("medium: flyer", "medium: billboard"))
    result = CliRunner().invoke(app, ["campaigns", "validate", str(path)])
    assert result.exit_code == 1
    assert "line 5: campaigns[0].medium" in result.output


def test_cli_validate_accepts_the_demo_file() -> None:
    demo = ROOT / "campaigns" / "demo" / "campaigns.yaml"
    result = CliRunner().invoke(app, ["campaigns", "validate", str(demo)])
    assert result.exit_code == 0, result.output
    assert "segment(s)" in result.output


def test_errors_inside_campaign_and_hotline_flows_are_reported(tmp_path: Path) -> None:
    import shutil

    target = tmp_path / "demo"
    shutil.copytree(ROOT / "campaigns" / "demo", target)
    for name in ("radio.yaml", "hotline.yaml"):
        flow = target / "flows" / name
        flow.write_text(flow.read_text(encoding="utf-8").replace("next: intro}", "next: nowhere}"))
    errors = [str(p) for p in validate_file(target / "campaigns.yaml").problems]
    assert any(
        "campaigns[0].voice.flow: flows/radio.yaml" in e and "'nowhere'" in e for e in errors
    )
    assert any("hotlines[0].flow: flows/hotline.yaml" in e and "'nowhere'" in e for e in errors)
