"""Unit tests of the pure flow engine: no HTTP, no database, the time passed in."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from ivr_flows.actions import (
    CallState,
    Dial,
    EffectKind,
    EngineContext,
    Gather,
    Hangup,
    Input,
    InputKind,
    Play,
    Redirect,
    Say,
    Step,
)
from ivr_flows.engine import step
from ivr_flows.loader import check_text
from ivr_flows.model import Flow

MONDAY_10_BAKU = datetime(2027, 2, 1, 6, 0, tzinfo=UTC)
MONDAY_20_BAKU = datetime(2027, 2, 1, 16, 0, tzinfo=UTC)
SATURDAY_10_BAKU = datetime(2027, 2, 6, 6, 0, tzinfo=UTC)

FLOW = """
id: t
languages: [az, en]
voices:
  az: {voice: Google.tr-TR-Standard-A, language: tr-TR}
  en: {voice: Polly.Joanna, language: en-US}
defaults: {timeout: 4, retries: 1}
start: lang
nodes:
  lang:
    kind: language
    prompt: {az: {audio: /audio/az/w.wav, text: "Dil 1"}, en: "English 2"}
    options: {"1": {language: az, next: hi}, "2": {language: en, next: hi}}
    fallback: hi
  hi:
    kind: message
    prompt: {az: "Salam", en: "Hello"}
    next: code
  code:
    kind: psa_code
    prompt: {az: "Kod", en: "Code"}
    invalid: {az: "Yox", en: "Unknown code"}
    next: topic
    fallback: topic
  topic:
    kind: question
    question_id: topic
    label: Topic
    prompt: {az: "Mövzu", en: "Topic: 1 work, 2 visas, 0 consultant"}
    options:
      "1": {value: work, next: more}
      "2": {value: visas, next: more}
      "0": {value: consultant, next: desk}
    fallback: bye
  more:
    kind: menu
    prompt: {az: "Daha", en: "1 again, 2 SMS"}
    options: {"1": topic, "2": sms}
    fallback: bye
  desk:
    kind: transfer
    number: "+994125550199"
    hours: {days: mon-fri, from: "09:00", to: "18:00"}
    prompt: {az: "Qoşuruq", en: "Connecting"}
    after_hours: {az: "Bağlıdır", en: "We are closed"}
    next: sms
  sms:
    kind: optin
    series: info
    prompt: {az: "SMS 1", en: "Press 1 for SMS"}
    confirm: {az: "Sağ ol", en: "We will text you"}
    next: bye
  bye:
    kind: hangup
    prompt: {az: "Sağ olun", en: "Goodbye"}
"""


def flow() -> Flow:
    parsed, issues = check_text(FLOW)
    assert parsed is not None and not issues, issues
    return parsed


def ctx(now: datetime = MONDAY_10_BAKU) -> EngineContext:
    return EngineContext(now=now, timezone="Asia/Baku", psa_codes=frozenset({"101", "202"}))


def walk(keys: list[str], now: datetime = MONDAY_10_BAKU) -> Step:
    f = flow()
    result = step(f, CallState(), Input(InputKind.START), ctx(now))
    for k in keys:
        result = step(f, result.state, Input.keys(k), ctx(now))
    return result


def texts(result: Step) -> list[str]:
    out: list[str] = []
    for action in result.actions:
        if isinstance(action, Gather):
            out.extend(p.text for p in action.prompts)
        elif isinstance(action, Say | Play):
            out.append(action.text)
    return out


def kinds(result: Step) -> list[tuple[str, str]]:
    return [(e.kind.value, e.node) for e in result.effects]


def test_start_asks_for_the_language_in_every_language_voice() -> None:
    result = walk([])
    gather = result.actions[0]
    assert isinstance(gather, Gather)
    first, second = gather.prompts
    assert isinstance(first, Play) and first.url == "/audio/az/w.wav" and first.language == "tr-TR"
    assert isinstance(second, Say) and second.voice == "Polly.Joanna"
    assert gather.num_digits == 1 and gather.timeout == 4
    assert result.state.node == "lang" and result.effects[0].kind is EffectKind.ENTERED


def test_choosing_a_language_sets_it_and_speaks_in_it() -> None:
    result = walk(["2"])
    assert result.state.language == "en"
    assert texts(result) == ["Hello", "Code"]
    assert ("language", "lang") in kinds(result)


def test_known_psa_code_is_reported_as_an_effect() -> None:
    result = walk(["2", "101#"])
    assert result.state.psa_code == "101"
    effect = next(e for e in result.effects if e.kind is EffectKind.PSA_CODE)
    assert effect.data == {"code": "101"}
    assert result.state.node == "topic"


def test_unknown_psa_code_reprompts_then_falls_back() -> None:
    first = walk(["2", "999"])
    assert texts(first)[0] == "Unknown code" and first.state.node == "code"
    second = walk(["2", "999", "998"])
    assert second.state.node == "topic" and second.state.psa_code is None


def test_no_psa_code_goes_on_without_reprompt() -> None:
    result = walk(["2", ""])
    assert result.state.node == "topic"
    assert ("no_input", "code") in kinds(result)


def test_question_records_the_result() -> None:
    result = walk(["2", "", "2"])
    assert result.state.results == {"topic": "visas"}
    effect = next(e for e in result.effects if e.kind is EffectKind.RESULT)
    assert effect.data == {"question": "topic", "value": "visas"}


def test_invalid_input_reprompts_then_goes_to_fallback() -> None:
    once = walk(["2", "", "7"])
    assert once.state.node == "topic" and once.state.retries == 1
    assert texts(once) == ["Topic: 1 work, 2 visas, 0 consultant"]
    assert ("invalid", "topic") in kinds(once)
    twice = walk(["2", "", "7", "77"])
    assert twice.state.ended and twice.state.node == "bye"
    assert isinstance(twice.actions[-1], Hangup)


def test_no_input_reprompts_then_goes_to_fallback() -> None:
    once = walk(["2", "", ""])
    assert once.state.node == "topic" and ("no_input", "topic") in kinds(once)
    assert isinstance(once.actions[-1], Gather)
    twice = walk(["2", "", "", ""])
    assert twice.state.outcome == "completed" and twice.state.node == "bye"


def test_transfer_in_office_hours_dials_the_consultant() -> None:
    result = walk(["2", "", "0"], now=MONDAY_10_BAKU)
    assert any(isinstance(a, Dial) and a.number == "+994125550199" for a in result.actions)
    assert result.state.dialing
    done = step(flow(), result.state, Input(InputKind.DIAL, "completed"), ctx())
    assert done.state.outcome == "transferred" and isinstance(done.actions[-1], Hangup)


def test_transfer_after_hours_plays_the_message_and_goes_on() -> None:
    for now in (MONDAY_20_BAKU, SATURDAY_10_BAKU):
        result = walk(["2", "", "0"], now=now)
        assert "We are closed" in texts(result)
        assert not any(isinstance(a, Dial) for a in result.actions)
        assert result.state.node == "sms" and result.state.after_hours
        assert ("after_hours", "desk") in kinds(result)


def test_unanswered_transfer_goes_to_the_fallback() -> None:
    result = walk(["2", "", "0"])
    after = step(flow(), result.state, Input(InputKind.DIAL, "no-answer"), ctx())
    assert after.state.node == "sms" and not after.state.dialing


def test_opt_in_emits_an_effect_with_the_series() -> None:
    result = walk(["2", "", "1", "2", "1"])
    effect = next(e for e in result.effects if e.kind is EffectKind.OPT_IN)
    assert effect.data == {"series": "info", "language": "en"}
    assert "We will text you" in texts(result)
    assert result.state.outcome == "completed"


def test_after_hours_call_ends_with_after_hours_outcome() -> None:
    result = walk(["2", "", "0", "2"], now=SATURDAY_10_BAKU)
    assert result.state.outcome == "after_hours"


def test_language_fallback_uses_the_default_language() -> None:
    result = walk(["", ""])
    assert result.state.language == "az" and texts(result) == ["Salam", "Kod"]


def test_state_round_trips_through_a_dict() -> None:
    result = walk(["2", "101", "1"])
    again = CallState.from_dict(result.state.to_dict())
    assert again == result.state
    assert again.path == ["lang", "hi", "code", "topic", "more"]


def test_input_after_the_end_only_hangs_up() -> None:
    ended = walk(["2", "", "7", "7"])
    after = step(flow(), ended.state, Input.keys("1"), ctx())
    assert after.actions == [Hangup()] and after.effects == []


def test_unexpected_input_repeats_the_current_node() -> None:
    result = walk(["2", "", "1"])  # at the `more` menu
    replay = step(flow(), result.state, Input(InputKind.DIAL, "completed"), ctx())
    assert replay.state.node == "more" and isinstance(replay.actions[-1], Gather)


def test_long_message_chains_are_cut_with_a_redirect() -> None:
    nodes = "\n".join(
        f"  m{i}:\n    kind: message\n    prompt: {{en: 'line {i}'}}\n    next: m{i + 1}"
        for i in range(40)
    )
    text = (
        "id: chain\nlanguages: [en]\nvoices: {en: {voice: Polly.Joanna, language: en-US}}\n"
        f"start: m0\nnodes:\n{nodes}\n  m40:\n    kind: hangup\n"
    )
    f, issues = check_text(text)
    assert f is not None and not issues
    first = step(f, CallState(), Input(InputKind.START), ctx())
    assert isinstance(first.actions[-1], Redirect) and not first.state.ended
    second = step(f, first.state, Input(InputKind.CONTINUE), ctx())
    assert second.state.ended and second.state.outcome == "completed"


def test_hash_can_be_a_menu_choice() -> None:
    text = (
        "id: h\nlanguages: [en]\nvoices: {en: {voice: Polly.Joanna, language: en-US}}\n"
        "start: m\nnodes:\n  m:\n    kind: menu\n    prompt: {en: 'Press hash'}\n"
        "    options: {'#': bye}\n    fallback: bye\n  bye:\n    kind: hangup\n"
    )
    f, issues = check_text(text)
    assert f is not None and not issues, issues
    first = step(f, CallState(), Input(InputKind.START), ctx())
    gather = first.actions[0]
    assert isinstance(gather, Gather) and gather.finish_on_key == ""
    pressed = step(f, first.state, Input.keys("#"), ctx())
    assert [e.data.get("via") for e in pressed.effects if e.kind is EffectKind.WENT_ON] == [
        "option"
    ]


def walk_with(keys: list[str], series: frozenset[str] | None) -> list[Step]:
    f = flow()
    context = EngineContext(
        now=SATURDAY_10_BAKU, psa_codes=frozenset({"101"}), opt_in_series=series
    )
    steps = [step(f, CallState(), Input(InputKind.START), context)]
    for k in keys:
        steps.append(step(f, steps[-1].state, Input.keys(k), context))
    return steps


def test_an_opt_in_that_cannot_be_honoured_is_skipped() -> None:
    # "0" asks for the consultant; closed on Saturday, so on to the opt-in node `sms`.
    for series in (frozenset(), frozenset({"other"})):
        result = walk_with(["2", "", "0"], series)[-1]
        assert "Press 1 for SMS" not in texts(result)
        assert texts(result)[-2:] == ["We are closed", "Goodbye"]
        assert result.state.ended and result.state.outcome == "after_hours"
        went = [e.data for e in result.effects if e.kind is EffectKind.WENT_ON and e.node == "sms"]
        assert went == [{"to": "bye", "digit": "", "via": "unavailable"}]
        assert not any(e.kind is EffectKind.OPT_IN for e in result.effects)


def test_an_opt_in_that_can_be_honoured_is_offered() -> None:
    for series in (None, frozenset({"info"})):
        steps = walk_with(["2", "", "0", "1"], series)
        assert texts(steps[-2])[-1] == "Press 1 for SMS"
        assert [e.data["series"] for e in steps[-1].effects if e.kind is EffectKind.OPT_IN] == [
            "info"
        ]


def test_the_opt_in_lookup_runs_only_when_an_opt_in_node_is_reached() -> None:
    asked: list[int] = []

    def lookup(answer: frozenset[str]) -> frozenset[str]:
        asked.append(1)
        return answer

    f = flow()
    for answer, offered in ((frozenset({"info"}), True), (frozenset(), False)):
        asked.clear()
        context = EngineContext(
            now=SATURDAY_10_BAKU,
            psa_codes=frozenset({"101"}),
            opt_in_lookup=lambda answer=answer: lookup(answer),  # type: ignore[misc]
        )
        steps = [step(f, CallState(), Input(InputKind.START), context)]
        for k in ["2", ""]:
            steps.append(step(f, steps[-1].state, Input.keys(k), context))
        assert asked == []  # no opt-in node on the way yet: nothing looked up
        steps.append(step(f, steps[-1].state, Input.keys("0"), context))
        assert asked  # the `sms` opt-in node was reached
        assert ("Press 1 for SMS" in texts(steps[-1])) is offered


def test_message_nodes_record_going_on_to_the_next_node() -> None:
    result = walk(["2"])  # `hi` (a message) says its prompt and goes on to `code`
    went = [(e.node, e.data) for e in result.effects if e.kind is EffectKind.WENT_ON]
    assert ("hi", {"to": "code", "digit": "", "via": "next"}) in went
    assert kinds(result)[-3:] == [("entered", "hi"), ("went_on", "hi"), ("entered", "code")]


def test_a_call_state_round_trips_through_its_dict_as_dataclasses_would_write_it() -> None:
    state = CallState(
        node="menu",
        language="ru",
        retries=2,
        results={"topic": "work"},
        psa_code="RADIO1",
        path=["welcome", "menu"],
        dialing=True,
        after_hours=True,
        ended=True,
        outcome="transferred",
    )
    written = state.to_dict()
    assert written == dataclasses.asdict(state)
    assert list(written) == [f.name for f in dataclasses.fields(CallState)]
    assert CallState.from_dict(written) == state
    # A copy: changing what was written leaves the state as it was.
    written["results"]["topic"] = "visa"
    written["path"].append("goodbye")
    assert state.results == {"topic": "work"} and state.path == ["welcome", "menu"]


def test_a_step_leaves_the_state_it_was_given_as_it_was() -> None:
    before = walk(["2", "101"]).state
    kept = dataclasses.replace(before, results=dict(before.results), path=list(before.path))
    after = step(flow(), before, Input.keys("1"), ctx()).state
    assert after.path != before.path and after.node != before.node
    assert before == kept  # results and path too: the engine changed a copy
