"""The pure flow engine: (flow, state, input, context) -> actions, new state, effects.

No HTTP, no database, no clock: the caller passes the time in `EngineContext`.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from ivr_flows.actions import (
    Action,
    CallState,
    Dial,
    Effect,
    EffectKind,
    EngineContext,
    Gather,
    Hangup,
    Input,
    InputKind,
    Outcome,
    Play,
    Redirect,
    Say,
    Speech,
    Step,
)
from ivr_flows.model import GATHER_KINDS, Flow, Node, NodeKind, OfficeHours, Prompt

# Auto-advancing nodes (message, goto, after-hours) chained in one answer before a <Redirect>.
MAX_HOPS = 25
DIAL_ANSWERED = frozenset({"completed", "answered"})


def step(flow: Flow, state: CallState, inp: Input, ctx: EngineContext) -> Step:
    """Advances a call by one input and returns what to do next."""
    run = _Run(flow, state.copy(), ctx)
    if inp.kind is InputKind.START:
        run.state = CallState(language=None)
        run.enter(flow.start)
        return run.done()
    if run.state.ended:
        return Step([Hangup()], run.state, [])
    node = flow.node(run.state.node)
    if node is None:
        run.end(Outcome.ERROR, run.state.node or "?")
    elif inp.kind is InputKind.CONTINUE:
        run.enter(node.id)
    elif node.kind is NodeKind.TRANSFER and run.state.dialing:
        run.dial_ended(node, inp)
    elif node.kind in GATHER_KINDS and inp.kind in (
        InputKind.DIGITS,
        InputKind.NO_INPUT,
        InputKind.TIMEOUT,
    ):
        run.answer(node, inp)
    else:
        # An input this node does not expect (replayed or out of order): ask again.
        run.enter(node.id)
    return run.done()


def speech(flow: Flow, prompt: Prompt, language: str) -> list[Speech]:
    """Renders one prompt in one language as <Say> or <Play> (with its spoken fallback)."""
    part = prompt.get(language)
    voice = flow.voices.get(language)
    if part is None or voice is None:
        return []
    if part.audio:
        return [Play(part.audio, part.text, voice.voice, voice.language)]
    return [Say(part.text, voice.voice, voice.language)]


def is_open(hours: OfficeHours, ctx: EngineContext) -> bool:
    """Tells whether office hours are open at ctx.now in their (or the campaign's) zone."""
    local = ctx.now.astimezone(ZoneInfo(hours.timezone or ctx.timezone))
    return local.weekday() in hours.days and hours.start <= local.time() < hours.end


def _finish_key(node: Node) -> str:
    """Returns '#' as the end-of-input key, unless the menu offers '#' as a choice."""
    return "" if any("#" in o.digit for o in node.options) else "#"


class _Run:
    def __init__(self, flow: Flow, state: CallState, ctx: EngineContext) -> None:
        self.flow, self.state, self.ctx = flow, state, ctx
        self.actions: list[Action] = []
        self.effects: list[Effect] = []

    @property
    def language(self) -> str:
        return self.state.language or self.flow.default_language

    def say(self, prompt: Prompt) -> list[Speech]:
        return speech(self.flow, prompt, self.language)

    def effect(self, kind: EffectKind, node: str, **data: str) -> None:
        self.effects.append(Effect(kind, node, data))

    def done(self) -> Step:
        return Step(self.actions, self.state, self.effects)

    def end(self, outcome: Outcome, node: str) -> None:
        self.actions.append(Hangup())
        self.state.ended, self.state.outcome, self.state.dialing = True, outcome.value, False
        self.effect(EffectKind.ENDED, node, outcome=outcome.value)

    def go(self, node: Node, target: str, digit: str = "", via: str = "option") -> None:
        self.effect(EffectKind.WENT_ON, node.id, to=target, digit=digit, via=via)
        self.enter(target)

    def enter(self, node_id: str) -> None:
        for _ in range(MAX_HOPS):
            node = self.flow.node(node_id)
            if node is None:
                self.end(Outcome.ERROR, node_id)
                return
            self.state.node, self.state.retries, self.state.dialing = node.id, 0, False
            self.state.path.append(node.id)
            self.effect(EffectKind.ENTERED, node.id)
            following = self._arrive(node)
            if following is None:
                return
            node_id = following
        self.state.node = node_id
        self.actions.append(Redirect())

    def _arrive(self, node: Node) -> str | None:
        """Acts on entering a node; returns the next node for auto-advancing kinds."""
        if node.kind in (NodeKind.MESSAGE, NodeKind.GOTO):
            self.actions.extend(self.say(node.prompt))
            # Recorded so that, for these nodes too, reached = went on + hung up (funnels).
            self.effect(EffectKind.WENT_ON, node.id, to=node.next or "", digit="", via="next")
            return node.next or ""
        if node.kind is NodeKind.HANGUP:
            self.actions.extend(self.say(node.prompt))
            self.end(Outcome.AFTER_HOURS if self.state.after_hours else Outcome.COMPLETED, node.id)
            return None
        if node.kind is NodeKind.TRANSFER:
            return self._transfer(node)
        if node.kind is NodeKind.OPTIN and not self.ctx.can_opt_in(node.series):
            # Never offer what cannot be honoured (no campaign, a STOP, no such series).
            self.effect(
                EffectKind.WENT_ON, node.id, to=node.next or "", digit="", via="unavailable"
            )
            return node.next or ""
        self.actions.append(self._gather(node, []))
        return None

    def _gather(self, node: Node, before: list[Speech]) -> Gather:
        if node.kind is NodeKind.LANGUAGE:
            # The caller has no language yet: each language's line in its own voice.
            prompts = [
                s for lang in self.flow.languages for s in speech(self.flow, node.prompt, lang)
            ]
        else:
            prompts = self.say(node.prompt)
        if node.kind is NodeKind.PSA_CODE:
            return Gather(tuple(before + prompts), node.timeout, None, "#")
        digits = {len(o.digit) for o in node.options} or {1}
        num = max(digits) if len(digits) == 1 else None
        return Gather(tuple(before + prompts), node.timeout, num, _finish_key(node))

    def _transfer(self, node: Node) -> str | None:
        if node.hours is not None and node.number and is_open(node.hours, self.ctx):
            self.actions.extend(self.say(node.prompt))
            self.actions.append(Dial(node.number, node.dial_timeout))
            self.state.dialing = True
            self.effect(EffectKind.TRANSFERRED, node.id, status="dialing")
            return None
        self.state.after_hours = True
        self.effect(EffectKind.AFTER_HOURS, node.id)
        self.actions.extend(self.say(node.after_hours))
        self.effect(EffectKind.WENT_ON, node.id, to=node.next or "", digit="", via="after_hours")
        return node.next

    def dial_ended(self, node: Node, inp: Input) -> None:
        status = inp.digits.strip().lower()
        if inp.kind is InputKind.DIAL and status in DIAL_ANSWERED:
            self.end(Outcome.TRANSFERRED, node.id)
            return
        self.state.dialing = False
        self.effect(EffectKind.TRANSFERRED, node.id, status=status or "no-answer")
        self.actions.extend(self.say(node.unavailable or node.after_hours))
        self.go(node, node.next or "", via="unavailable")

    def answer(self, node: Node, inp: Input) -> None:
        digits = inp.digits.strip() if inp.kind is InputKind.DIGITS else ""
        if _finish_key(node):
            digits = digits.rstrip("#")
        if not digits:
            self.effect(EffectKind.NO_INPUT, node.id)
            if node.kind is NodeKind.PSA_CODE:
                # Callers without a code are told to just wait: go on at once, no re-prompt.
                self.go(node, node.fallback or node.next or "", via="fallback")
                return
            fallback_to = node.next if node.kind is NodeKind.OPTIN else None
            self.retry(node, node.no_input or self.flow.no_input, fallback_to=fallback_to)
            return
        if node.kind is NodeKind.PSA_CODE:
            if digits in self.ctx.psa_codes:
                self.state.psa_code = digits
                self.effect(EffectKind.PSA_CODE, node.id, code=digits)
                self.go(node, node.next or "", digit="code")
                return
            self.effect(EffectKind.INVALID, node.id)
            self.retry(node, node.invalid or self.flow.invalid)
            return
        if node.kind is NodeKind.OPTIN:
            if digits == node.accept:
                self.effect(
                    EffectKind.OPT_IN, node.id, series=node.series or "", language=self.language
                )
                self.actions.extend(self.say(node.confirm))
            self.go(node, node.next or "", digit=digits[:1])
            return
        option = node.option(digits)
        if option is None:
            self.effect(EffectKind.INVALID, node.id)
            self.retry(node, node.invalid or self.flow.invalid)
            return
        if option.language:
            self.state.language = option.language
            self.effect(EffectKind.LANGUAGE, node.id, language=option.language)
        if node.kind is NodeKind.QUESTION and node.question_id and option.value:
            self.state.results[node.question_id] = option.value
            self.effect(EffectKind.RESULT, node.id, question=node.question_id, value=option.value)
        self.go(node, option.next, digit=option.digit)

    def retry(self, node: Node, message: Prompt, fallback_to: str | None = None) -> None:
        """Asks again after `message` (none: just the prompt), or goes on once out of retries."""
        self.state.retries += 1
        if self.state.retries > node.retries:
            target = fallback_to or node.fallback or node.next or ""
            if node.kind is NodeKind.LANGUAGE and self.state.language is None:
                self.state.language = self.flow.default_language
                self.effect(EffectKind.LANGUAGE, node.id, language=self.language)
            self.go(node, target, via="fallback")
            return
        self.actions.append(self._gather(node, self.say(message)))
