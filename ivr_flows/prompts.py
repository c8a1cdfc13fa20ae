"""Every prompt of a flow by its slot, recordings laid over them, and what still has no audio.

A slot names one language of one prompt: `node/field/language`, e.g. `welcome/prompt/az` or
`(flow)/invalid/ru` for the flow-wide re-ask prompts. Pure: the caller supplies the URLs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace

from ivr_flows.model import Flow, Node, Prompt

FLOW_SLOT = "(flow)"
NODE_FIELDS = ("prompt", "invalid", "no_input", "after_hours", "unavailable", "confirm")
FLOW_FIELDS = ("invalid", "no_input")
# Languages no Twilio text-to-speech voice speaks: a prompt without a recording is missing.
NEEDS_RECORDING = frozenset({"az"})


def slot_key(node: str, field: str, language: str) -> str:
    return f"{node}/{field}/{language}"


@dataclass(frozen=True)
class Slot:
    """One language of one prompt, and whether it is audio (a recording or an audio URL)."""

    node: str
    field: str
    language: str
    text: str
    audio: str | None

    @property
    def key(self) -> str:
        return slot_key(self.node, self.field, self.language)


def _prompts(flow: Flow) -> Iterator[tuple[str, str, Prompt]]:
    for name in FLOW_FIELDS:
        yield FLOW_SLOT, name, getattr(flow, name)
    for node in flow.nodes.values():
        for name in NODE_FIELDS:
            yield node.id, name, getattr(node, name)


def slots(flow: Flow) -> list[Slot]:
    """Every prompt language the flow declares (a missing language is a validation issue)."""
    out: list[Slot] = []
    for node, name, prompt in _prompts(flow):
        if not prompt:
            continue
        for language in flow.languages:
            part = prompt.get(language)
            if part is not None:
                out.append(Slot(node, name, language, part.text, part.audio))
    return out


def _laid(prompt: Prompt, node: str, name: str, urls: Mapping[str, str]) -> Prompt:
    return {
        lang: replace(part, audio=urls.get(slot_key(node, name, lang), part.audio))
        for lang, part in prompt.items()
    }


def with_audio(flow: Flow, urls: Mapping[str, str]) -> Flow:
    """Returns the flow with each slot in `urls` played from its URL (text stays the fallback)."""
    if not urls:
        return flow
    nodes: dict[str, Node] = {}
    for node in flow.nodes.values():
        changes = {n: _laid(getattr(node, n), node.id, n, urls) for n in NODE_FIELDS}
        nodes[node.id] = replace(node, **changes)  # type: ignore[arg-type]
    top = {n: _laid(getattr(flow, n), FLOW_SLOT, n, urls) for n in FLOW_FIELDS}
    return replace(flow, nodes=nodes, **top)  # type: ignore[arg-type]


def missing_recordings(
    flow: Flow, recorded: Mapping[str, object], languages: frozenset[str] = NEEDS_RECORDING
) -> dict[str, list[str]]:
    """Maps each node (or FLOW_SLOT) to the `field/language` of its prompts with no recording,
    in `languages` (by default those no text-to-speech voice speaks).

    A slot counts as recorded when `recorded` has its key or the flow gives it an audio URL.
    """
    out: dict[str, list[str]] = {}
    for slot in slots(flow):
        if slot.language in languages and slot.key not in recorded and not slot.audio:
            out.setdefault(slot.node, []).append(f"{slot.field}/{slot.language}")
    return out
