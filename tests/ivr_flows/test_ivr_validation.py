"""Flow validation: each kind of error is reported with its location; the CLI exits 1."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from ivr_flows.loader import FlowError, check_text, load_flow
from outreach.cli import app
from tests.support.app import ROOT

DEMO_FLOWS = ROOT / "campaigns" / "demo" / "flows"
HEAD = """
id: bad
languages: [az, ru]
voices:
  az: {voice: Google.tr-TR-Standard-A, language: tr-TR}
  ru: {voice: Polly.Tatyana, language: ru-RU}
start: main
nodes:
"""
BYE = """
  bye:
    kind: hangup
    prompt: {az: "Sağ olun", ru: "До свидания"}
"""


def errors(nodes: str) -> list[str]:
    _, issues = check_text(HEAD + nodes + BYE)
    return [str(i) for i in issues]


def test_demo_flows_are_valid() -> None:
    for name in ("radio.yaml", "hotline.yaml"):
        assert load_flow(DEMO_FLOWS / name).languages == ("az", "ru", "en")


def test_unknown_next_node_is_reported_at_its_option() -> None:
    found = errors("""
  main:
    kind: menu
    prompt: {az: "Menyu", ru: "Меню"}
    options: {"1": bye, "3": foo}
    fallback: bye
""")
    assert any(
        e.startswith("nodes.main.options.3 (line ") and "unknown node 'foo'" in e for e in found
    )


def test_unreachable_node_is_reported() -> None:
    found = errors("""
  main:
    kind: goto
    next: bye
  orphan:
    kind: goto
    next: bye
""")
    assert any(e.startswith("nodes.orphan") and "unreachable" in e for e in found)


def test_loop_that_never_reaches_a_hangup_is_reported() -> None:
    found = errors("""
  main:
    kind: menu
    prompt: {az: "Menyu", ru: "Меню"}
    options: {"1": spin, "9": bye}
    fallback: bye
  spin:
    kind: message
    prompt: {az: "Bir", ru: "Раз"}
    next: spin2
  spin2:
    kind: goto
    next: spin
""")
    assert any(e.startswith("nodes.spin ") and "loops forever" in e for e in found)
    assert any(e.startswith("nodes.spin2 ") and "loops forever" in e for e in found)
    assert not any(e.startswith("nodes.main ") for e in found)


def test_duplicate_digit_in_a_menu_is_reported() -> None:
    found = errors("""
  main:
    kind: menu
    prompt: {az: "Menyu", ru: "Меню"}
    options:
      "1": bye
      1: bye
    fallback: bye
""")
    assert any(e.startswith("nodes.main.options.1") and "duplicate digit '1'" in e for e in found)


def test_missing_prompt_language_is_reported() -> None:
    found = errors("""
  main:
    kind: message
    prompt: {az: "Salam"}
    next: bye
""")
    assert any(
        e.startswith("nodes.main.prompt") and "missing for language 'ru'" in e for e in found
    )


def test_malformed_audio_url_is_reported() -> None:
    for url in (
        "ftp://x/a.wav",
        "/audio/../secret.wav",
        "audio/a.wav",
        "http://",
        "/audio/a b.wav",
    ):
        found = errors(f"""
  main:
    kind: message
    prompt: {{az: {{audio: "{url}", text: "Salam"}}, ru: "Привет"}}
    next: bye
""")
        assert any(
            e.startswith("nodes.main.prompt.az.audio") and "malformed" in e for e in found
        ), url


def test_every_error_is_reported_at_once() -> None:
    found = errors("""
  main:
    kind: menu
    prompt: {az: "Menyu"}
    options: {"1": nowhere}
    fallback: bye
  orphan:
    kind: hangup
""")
    assert len(found) >= 3


def test_load_flow_refuses_an_invalid_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(HEAD + "  main:\n    kind: goto\n    next: nope\n" + BYE)
    try:
        load_flow(path)
    except FlowError as exc:
        assert "unknown node 'nope'" in str(exc)
    else:
        raise AssertionError("an invalid flow loaded")


def test_cli_validate_rejects_a_dangling_node(tmp_path: Path) -> None:
    path = tmp_path / "dangling.yaml"
    path.write_text(HEAD + "  main:\n    kind: goto\n    next: nope\n" + BYE)
    result = CliRunner().invoke(app, ["flows", "validate", str(path)])
    assert result.exit_code == 1
    assert "nodes.main.next" in result.output and "unknown node 'nope'" in result.output


def test_cli_validate_accepts_the_demo_flows() -> None:
    result = CliRunner().invoke(
        app, ["flows", "validate", str(DEMO_FLOWS / "radio.yaml"), str(DEMO_FLOWS / "hotline.yaml")]
    )
    assert result.exit_code == 0, result.output
    assert "flow 'radio'" in result.output and "flow 'hotline'" in result.output


def test_cli_show_prints_the_menu_tree() -> None:
    result = CliRunner().invoke(app, ["flows", "show", str(DEMO_FLOWS / "hotline.yaml")])
    assert result.exit_code == 0, result.output
    for expected in ("welcome", "psa", "topics", "Legal work abroad", "consultant", "goodbye"):
        assert expected in result.output


def test_campaign_check_reports_the_voice_flow_errors(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from ivr_flows.campaign_check import voice_flow_check

    (tmp_path / "bad.yaml").write_text(HEAD + "  main:\n    kind: goto\n    next: nope\n" + BYE)
    spec = SimpleNamespace(voice=SimpleNamespace(flow="bad.yaml"), languages=["az", "en"])
    found = voice_flow_check(spec, ("campaigns", 0), tmp_path)
    assert (
        ("campaigns", 0, "voice", "flow"),
        "bad.yaml: nodes.main.next (line 11): unknown node 'nope'",
    ) in found
    assert any("has no prompts in en" in message for _, message in found)
    good = SimpleNamespace(voice=SimpleNamespace(flow="radio.yaml"), languages=["az", "ru"])
    assert voice_flow_check(good, ("campaigns", 0), DEMO_FLOWS) == []
