"""A phone in the terminal: calls the voice webhooks like Twilio would, and prints the TwiML.

It posts signed requests to a running service (`--url`, default the public URL), or runs
the app in this process when `--in-process` is given or no service answers there (an empty
database then gets the demo campaigns). <Say>/<Play> are printed, <Gather> reads keys (from
`--keys` or the keyboard; an empty entry is "no input"), <Redirect> is followed, <Dial> is
answered by a pretend consultant (or not: `--consultant busy|no-answer`), <Hangup>/<Reject>
end the call, and the status callback is sent at the end. `--at` (in-process only) pretends the
call happens at another time, e.g. within office hours.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import urlsplit
from xml.etree import ElementTree

from rich.console import Console

from outreach.core.settings import Settings

MAX_STEPS = 200


class Consultant(StrEnum):
    """What the pretend consultant line does when a transfer dials it."""

    ANSWERS = "answers"
    BUSY = "busy"
    NO_ANSWER = "no-answer"


# The DialCallStatus Twilio posts to the <Dial action> in each case, and what the phone prints.
_DIAL = {
    Consultant.ANSWERS: ("completed", "a consultant answers"),
    Consultant.BUSY: ("busy", "the line is busy"),
    Consultant.NO_ANSWER: ("no-answer", "nobody answers"),
}


@dataclass
class Keypad:
    """Where key presses come from: a scripted list, else the keyboard."""

    scripted: list[str] | None
    read: Callable[[str], str] = input
    used: list[str] = field(default_factory=list)

    def next(self) -> str | None:
        """Returns the next keys ("" = no input), or None when the caller hangs up."""
        if self.scripted is not None:
            if not self.scripted:
                return None
            keys = self.scripted.pop(0)
        else:
            try:
                keys = self.read("keys (Enter = no input, q = hang up)> ").strip()
            except EOFError:
                return None
            if keys.lower() == "q":
                return None
        self.used.append(keys)
        return keys


def _verbs(twiml: str) -> Iterator[ElementTree.Element]:
    try:
        root = ElementTree.fromstring(twiml)
    except ElementTree.ParseError:
        return iter(())
    return iter(list(root))


def _path_of(url: str, public_url: str) -> str:
    """Maps an absolute TwiML URL back to the service path (+ query) it names."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


class Phone:
    def __init__(
        self,
        settings: Settings,
        post: Callable[[str, dict[str, str]], tuple[int, str]],
        keypad: Keypad,
        console: Console,
        consultant: Consultant = Consultant.ANSWERS,
    ) -> None:
        self.settings, self.post, self.keypad, self.console = settings, post, keypad, console
        self.consultant, self.dialed = consultant, False
        self.sid = "CA" + secrets.token_hex(16)

    def form(self, to: str, caller: str, **extra: str) -> dict[str, str]:
        base = {
            "CallSid": self.sid,
            "AccountSid": self.settings.twilio_account_sid or "AC" + "0" * 32,
            "From": caller,
            "To": to,
            "Direction": "inbound",
            "ApiVersion": "2010-04-01",
        }
        return {**base, **extra}

    def call(self, to: str, caller: str) -> str:
        """Walks a call to its end; returns the final call status."""
        started = time.monotonic()
        status, twiml = self.post("/twilio/voice", self.form(to, caller, CallStatus="ringing"))
        outcome = "completed"
        for _ in range(MAX_STEPS):
            if status != 200:
                self.console.print(f"[red]HTTP {status}[/red] {twiml}")
                outcome = "failed"
                break
            request = self.follow(twiml)
            if request is None:
                break
            if request == ("reject", {}):
                outcome = "busy"
                break
            path, extra = request
            status, twiml = self.post(
                path, self.form(to, caller, CallStatus="in-progress", **extra)
            )
        duration = max(1, round(time.monotonic() - started))
        self.post(
            "/twilio/voice/status",
            self.form(to, caller, CallStatus=outcome, CallDuration=str(duration)),
        )
        self.console.print(
            f"[dim]call ended: {outcome}, {duration} s, keys {self.keypad.used}[/dim]"
        )
        if self.consultant is not Consultant.ANSWERS and not self.dialed:
            self.console.print(
                f"[yellow]--consultant {self.consultant} did nothing: no consultant was dialed "
                "(outside office hours? try --at '2027-02-01 10:00')[/yellow]"
            )
        return outcome

    def follow(self, twiml: str) -> tuple[str, dict[str, str]] | None:
        """Acts out one TwiML answer; returns the next request (path, fields) or None (hung up)."""
        for verb in _verbs(twiml):
            tag = verb.tag
            if tag in ("Say", "Play"):
                self.speak(verb)
            elif tag == "Gather":
                for inner in verb:
                    self.speak(inner)
                keys = self.keypad.next()
                if keys is None:
                    self.console.print("[dim]📴 you hang up[/dim]")
                    return None
                finish = verb.get("finishOnKey", "#")
                digits = keys.split(finish)[0] if finish else keys
                if verb.get("numDigits"):
                    digits = digits[: int(verb.get("numDigits", "1"))]
                self.console.print(f"[yellow]⌨ {digits or '(no input)'}[/yellow]")
                return _path_of(verb.get("action", ""), self.settings.public_url), {
                    "Digits": digits
                }
            elif tag == "Dial":
                status, what = _DIAL[self.consultant]
                self.dialed = True
                self.console.print(f"☎ dialing {(verb.text or '').strip()} — {what}")
                fields = {"DialCallStatus": status}
                if self.consultant is Consultant.ANSWERS:
                    fields["DialCallDuration"] = "60"
                return _path_of(verb.get("action", ""), self.settings.public_url), fields
            elif tag == "Redirect":
                return _path_of((verb.text or "").strip(), self.settings.public_url), {}
            elif tag == "Hangup":
                self.console.print("[dim]📴 the line hangs up[/dim]")
                return None
            elif tag == "Reject":
                self.console.print(
                    f"[dim]✗ call rejected ({verb.get('reason', 'busy')}): "
                    "wait for the callback[/dim]"
                )
                return ("reject", {})
        return None

    def speak(self, verb: ElementTree.Element) -> None:
        if verb.tag == "Say":
            self.console.print(
                f"🔊 [{verb.get('language', '')}] {(verb.text or '').strip()}",
                markup=False,
                highlight=False,
            )
        elif verb.tag == "Play":
            self.console.print(f"▶ play {(verb.text or '').strip()}", markup=False, highlight=False)
