"""No key vs a wrong key: the engine says `no_input` or `invalid` (flow-wide or per node)."""

from __future__ import annotations

from datetime import UTC, datetime

from ivr_flows.actions import CallState, EngineContext, Gather, Input, InputKind, Play, Say, Step
from ivr_flows.engine import step
from ivr_flows.loader import check_text
from ivr_flows.model import Flow

NOW = datetime(2027, 2, 1, 6, 0, tzinfo=UTC)

FLOW = """
id: n
languages: [az, en]
voices:
  az: {voice: Google.tr-TR-Standard-A, language: tr-TR}
  en: {voice: Polly.Joanna, language: en-US}
defaults: {timeout: 4, retries: 1}
invalid: {az: "Bu seçim mövcud deyil.", en: "That is not one of the choices."}
no_input: {az: "Seçiminizi eşitmədik.", en: "We did not hear a choice."}
start: lang
nodes:
  lang:
    kind: language
    prompt: {az: "Azərbaycanca 1", en: "English 2"}
    options: {"1": {language: az, next: menu}, "2": {language: en, next: menu}}
    fallback: menu
  menu:
    kind: menu
    prompt: {az: "Xəbər 1, SMS 2", en: "News 1, SMS 2"}
    options: {"1": news, "2": sms}
    fallback: bye
  news:
    kind: menu
    prompt: {az: "Təkrar 1, son 9", en: "Again 1, end 9"}
    invalid: {az: "Yalnız 1 və ya 9.", en: "Only 1 or 9, please."}
    no_input: {az: "Bir düymə basın.", en: "Please press a key."}
    options: {"1": news, "9": bye}
    fallback: bye
  sms:
    kind: optin
    prompt: {az: "SMS üçün 1", en: "Press 1 for SMS"}
    next: bye
  bye:
    kind: hangup
    prompt: {az: "Sağ olun", en: "Goodbye"}
"""
NO_INPUT_LINE = 'no_input: {az: "Seçiminizi eşitmədik.", en: "We did not hear a choice."}\n'


def load(text: str = FLOW) -> Flow:
    parsed, issues = check_text(text)
    assert parsed is not None and not issues, issues
    return parsed


def walk(inputs: list[Input], text: str = FLOW) -> Step:
    f = load(text)
    ctx = EngineContext(now=NOW)
    result = step(f, CallState(), Input(InputKind.START), ctx)
    for inp in inputs:
        result = step(f, result.state, inp, ctx)
    return result


def keys(*pressed: str) -> list[Input]:
    return [Input.keys(k) for k in pressed]


def spoken(result: Step) -> list[str]:
    """Returns the text of everything said or played, Gather prompts included, in order."""
    out: list[str] = []
    for action in result.actions:
        if isinstance(action, Gather):
            out.extend(p.text for p in action.prompts)
        elif isinstance(action, Say | Play):
            out.append(action.text)
    return out


def test_no_key_says_the_no_input_prompt_then_the_menu_again() -> None:
    result = walk(keys("2", ""))
    assert spoken(result) == ["We did not hear a choice.", "News 1, SMS 2"]
    assert result.state.node == "menu" and result.state.retries == 1


def test_a_wrong_key_says_the_invalid_prompt_then_the_menu_again() -> None:
    result = walk(keys("2", "7"))
    assert spoken(result) == ["That is not one of the choices.", "News 1, SMS 2"]


def test_no_input_is_said_in_the_callers_language() -> None:
    assert spoken(walk(keys("1", ""))) == ["Seçiminizi eşitmədik.", "Xəbər 1, SMS 2"]


def test_a_nodes_own_prompts_replace_the_flows() -> None:
    assert spoken(walk(keys("2", "1", ""))) == ["Please press a key.", "Again 1, end 9"]
    assert spoken(walk(keys("2", "1", "5"))) == ["Only 1 or 9, please.", "Again 1, end 9"]


def test_without_a_no_input_prompt_no_key_replays_only_the_prompt() -> None:
    result = walk(keys("2", ""), text=FLOW.replace(NO_INPUT_LINE, ""))
    assert spoken(result) == ["News 1, SMS 2"]
    wrong = walk(keys("2", "7"), text=FLOW.replace(NO_INPUT_LINE, ""))
    assert spoken(wrong) == ["That is not one of the choices.", "News 1, SMS 2"]


def test_a_gather_timeout_counts_as_no_input() -> None:
    result = walk([*keys("2"), Input(InputKind.TIMEOUT)])
    assert spoken(result) == ["We did not hear a choice.", "News 1, SMS 2"]


def test_no_key_at_the_language_choice_asks_again_in_every_language() -> None:
    result = walk(keys(""))
    assert spoken(result) == ["Seçiminizi eşitmədik.", "Azərbaycanca 1", "English 2"]


def test_no_key_at_an_opt_in_is_not_called_a_wrong_choice() -> None:
    result = walk(keys("2", "2", ""))
    assert spoken(result) == ["We did not hear a choice.", "Press 1 for SMS"]


def test_no_input_after_the_last_retry_goes_to_the_fallback_without_a_message() -> None:
    result = walk(keys("2", "", ""))
    assert spoken(result) == ["Goodbye"] and result.state.outcome == "completed"


def test_a_no_input_prompt_missing_a_language_is_an_error() -> None:
    text = FLOW.replace(NO_INPUT_LINE, 'no_input: {az: "Seçiminizi eşitmədik."}\n')
    _, issues = check_text(text)
    assert [str(i) for i in issues] == ["no_input (line 9): prompt missing for language 'en'"]


def test_a_nodes_no_input_missing_a_language_is_an_error() -> None:
    text = FLOW.replace(
        'no_input: {az: "Bir düymə basın.", en: "Please press a key."}', "no_input: {en: x}"
    )
    _, issues = check_text(text)
    assert [i.location for i in issues] == ["nodes.news.no_input"]
    assert "prompt missing for language 'az'" in issues[0].message


def test_no_input_is_refused_where_no_key_is_never_re_asked() -> None:
    text = (
        "id: m\nlanguages: [en]\nvoices: {en: {voice: Polly.Joanna, language: en-US}}\n"
        "start: code\nnodes:\n"
        "  code:\n    kind: psa_code\n    prompt: {en: Code}\n    no_input: {en: Nothing}\n"
        "    next: hi\n    fallback: hi\n"
        "  hi:\n    kind: message\n    prompt: {en: Hi}\n    no_input: {en: Nothing}\n"
        "    next: bye\n"
        "  bye:\n    kind: hangup\n"
    )
    _, issues = check_text(text)
    assert [(i.location, i.message) for i in issues] == [
        ("nodes.code.no_input", "unknown field for a psa_code node"),
        ("nodes.hi.no_input", "unknown field for a message node"),
    ]
