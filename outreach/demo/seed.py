"""Demo traffic: a month of anonymous calls and texts through the same services the webhooks use.

Radio and TV spots air daily and bring bursts of calls in the minutes after; flyers,
the newspaper ad and posters bring a steady trickle of texts; callers choose languages and
topics, go back, ask for SMS, time out, press wrong keys and hang up part way. Follow-ups
are dispatched hour by hour through an offline gateway and marked delivered.
"""

from __future__ import annotations

import heapq
import itertools
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from twilio.http import HttpClient
from twilio.http.response import Response

from campaigns.airings import service as airings
from campaigns.followups.delivery import apply_status
from campaigns.followups.dispatcher import Dispatcher
from campaigns.followups.models import OutboxMessage, OutboxStatus
from campaigns.registry.models import Campaign
from campaigns.sms.service import InboundSms, handle_inbound_sms
from campaigns.voice.callbacks import place_callback, record_missed_call
from campaigns.voice.models import Call, CallCallback, CallDirection
from campaigns.voice.service import find_line, line_flow, record_status, start_call, step_call
from ivr_flows.actions import CallState
from outreach.core.context import AppContext
from outreach.core.db import session_scope
from outreach.core.gateway import TwilioGateway
from outreach.core.privacy import Address
from outreach.demo.seed_plan import HOTLINE, SPOTS, TEXT_LINES, call_choice, text_body
from webhooks.voice_twiml import renderer

# Told (events done, events in all) as the seed plays; the CLI draws a progress bar from it.
Progress = Callable[[int, int], None]
PREFIXES = ("+99450", "+99451", "+99455", "+99470", "+99477", "+99410")


class OfflineTwilio(HttpClient):
    """Answers Twilio API calls in-process (the seed never reaches the network)."""

    def __init__(self) -> None:
        self.counter = itertools.count(1)

    def request(self, method: str, uri: str, **kw: Any) -> Response:  # type: ignore[override]
        n = next(self.counter)
        prefix = "CA" if "/Calls" in uri else "SM"
        return Response(201, f'{{"sid": "{prefix}{n:032d}", "status": "queued"}}')


@dataclass
class SeedStats:
    airings: int = 0
    calls: int = 0
    texts: int = 0
    followups_sent: int = 0
    counts: dict[str, int] = field(default_factory=dict)


@dataclass(order=True)
class _Event:
    at: datetime
    order: int
    action: Callable[[datetime], None] = field(compare=False)


class Seeder:
    """Plans the month, then plays it back in time order against the services."""

    def __init__(self, ctx: AppContext, *, rng: random.Random, scale: float) -> None:
        self.ctx, self.rng, self.scale = ctx, rng, scale
        self.now = ctx.clock()
        self.render = renderer(ctx.settings.public_url)
        ctx.clock = lambda: self.now
        self.queue: list[_Event] = []
        self.order = itertools.count()
        # SIDs unique per run, so seeding twice adds traffic instead of replaying it.
        self.run_tag = uuid.uuid4().hex[:8]
        self.callers: list[str] = []
        self.stats = SeedStats()
        self.zone = ZoneInfo(ctx.settings.default_timezone)

    def at(self, when: datetime, action: Callable[[datetime], None]) -> None:
        heapq.heappush(self.queue, _Event(when, next(self.order), action))

    def caller(self) -> str:
        # A quarter of contacts come back (new vs returning is part of the report).
        if self.callers and self.rng.random() < 0.25:
            return self.rng.choice(self.callers)
        number = self.rng.choice(PREFIXES) + f"{self.rng.randrange(10**6, 10**7)}"
        self.callers.append(number)
        return number

    def poisson(self, mean: float) -> int:
        mean *= self.scale
        count, limit, product = 0, pow(2.718281828, -mean), self.rng.random()
        while product > limit:
            count += 1
            product *= self.rng.random()
        return count

    def plan(self, start: datetime, days: int) -> None:
        with session_scope(self.ctx.sessions) as session:
            codes = {c.code for c in session.scalars(select(Campaign))}
        for offset in range(days):
            day = (start + timedelta(days=offset)).astimezone(self.zone).date()
            for spot in SPOTS:
                if spot.code in codes and spot.airs_on(day):
                    aired = datetime.combine(day, spot.clock, self.zone)
                    self.at(aired, partial(self.air, spot=spot))
                    self.plan_calls_around(aired, spot)
            for hour in range(8, 23):
                moment = datetime.combine(day, time(hour), self.zone)
                for number, mean in [(s.number, 1.5) for s in SPOTS] + [(HOTLINE, 0.8)]:
                    for _ in range(self.poisson(mean)):
                        when = moment + timedelta(seconds=self.rng.randrange(3600))
                        self.at(when, partial(self.call, dialed=number, psa_code=None))
                for line in TEXT_LINES:
                    for _ in range(self.poisson(line.per_hour)):
                        when = moment + timedelta(seconds=self.rng.randrange(3600))
                        self.at(when, partial(self.text, line=line))
            # Follow-ups go out hour by hour, so quiet hours and delays look real.
            for hour in range(24):
                moment = datetime.combine(day, time(hour), self.zone)
                self.at(moment + timedelta(minutes=59), self.dispatch)

    def plan_calls_around(self, aired: datetime, spot: Any) -> None:
        for _ in range(self.poisson(spot.response)):
            # Responses start within seconds of the spot and fade over ~10 minutes.
            delay = min(self.rng.expovariate(1 / 180), 900) + 15
            when = aired + timedelta(seconds=delay)
            if self.rng.random() < 0.25:
                self.at(when, partial(self.call, dialed=HOTLINE, psa_code=spot.psa_code))
            else:
                self.at(when, partial(self.call, dialed=spot.number, psa_code=None))

    def run(self, end: datetime, progress: Progress | None = None) -> SeedStats:
        """Plays the queued events before `end`; `progress(done, total)` hears of the work."""
        done = 0
        while self.queue and self.queue[0].at < end:
            item = heapq.heappop(self.queue)
            self.now = item.at
            item.action(item.at)
            done += 1
            if progress is not None and done % 500 == 0:
                progress(done, done + sum(1 for e in self.queue if e.at < end))
        if progress is not None:
            progress(done, done)
        return self.stats

    def air(self, when: datetime, spot: Any) -> None:
        try:
            with session_scope(self.ctx.sessions) as session:
                airings.create(
                    session,
                    campaign_code=spot.code,
                    station=spot.station,
                    aired_at=when,
                    duration_seconds=spot.seconds,
                )
        except airings.AiringError:
            return  # seeded before: the airing is already recorded
        self.stats.airings += 1

    def text(self, when: datetime, line: Any) -> None:
        number = self.caller()
        whatsapp = self.rng.random() < 0.15
        sender = Address(number=number, whatsapp=whatsapp)
        to = Address(number=line.number, whatsapp=whatsapp)
        self._sms(when, sender, to, text_body(self.rng, line))
        roll = self.rng.random()
        if roll < 0.12:
            later = when + timedelta(minutes=self.rng.randrange(1, 20))
            self.at(
                later, lambda t: self._sms(t, sender, to, self.rng.choice(["YES", "BƏLİ", "ДА"]))
            )
        elif roll < 0.14:
            later = when + timedelta(days=self.rng.randrange(1, 6))
            self.at(later, lambda t: self._sms(t, sender, to, "STOP"))

    def _sms(self, when: datetime, sender: Address, to: Address, body: str) -> None:
        sid = f"SM{self.run_tag}{next(self.order):024d}"
        with session_scope(self.ctx.sessions) as session:
            handle_inbound_sms(
                session,
                self.ctx,
                now=when,
                message=InboundSms(message_sid=sid, sender=sender, to=to, body=body),
            )
        self.stats.texts += 1

    def call(self, when: datetime, dialed: str, psa_code: str | None) -> None:
        caller = self.caller()
        sid = f"CA{self.run_tag}{next(self.order):024d}"
        with session_scope(self.ctx.sessions) as session:
            line = find_line(session, self.ctx, dialed)
            if line is None:
                return
            if line.missed_call_callback:
                callback = record_missed_call(
                    session, self.ctx, line=line, call_sid=sid, caller=caller, now=when
                )
            else:
                callback = None
                start_call(
                    session,
                    self.ctx,
                    line=line,
                    call_sid=sid,
                    caller=caller,
                    direction=CallDirection.INBOUND,
                    now=when,
                    render=self.render,
                )
        if line.missed_call_callback:
            if callback is None or place_callback(self.ctx, callback) is None:
                return
            with session_scope(self.ctx.sessions) as session:
                row = session.get(CallCallback, callback)
                sid = row.call_sid if row is not None and row.call_sid else ""
                line = find_line(session, self.ctx, dialed)
                if not sid or line is None:
                    return
                when += timedelta(seconds=20)
                start_call(
                    session,
                    self.ctx,
                    line=line,
                    call_sid=sid,
                    caller=caller,
                    direction=CallDirection.CALLBACK,
                    now=when,
                    render=self.render,
                )
        with session_scope(self.ctx.sessions) as session:
            flow = line_flow(session, self.ctx, line)
        self.walk(sid, caller, when, psa_code, flow)
        self.stats.calls += 1

    def walk(self, sid: str, caller: str, when: datetime, psa: str | None, flow: Any) -> None:
        elapsed = 0
        for _ in range(30):
            with session_scope(self.ctx.sessions) as session:
                call = session.scalar(select(Call).where(Call.call_sid == sid))
                if call is None:
                    return
                state = CallState.from_dict(call.state)
                if state.ended:
                    break
                node = flow.node(state.node)
                choice = call_choice(self.rng, node, state, psa)
                if choice is None:  # the caller hangs up here
                    break
                elapsed += self.rng.randrange(6, 30)
                self.now = when + timedelta(seconds=elapsed)
                event_name, digits, dial = choice
                step_call(
                    session,
                    self.ctx,
                    call_sid=sid,
                    seq=call.seq,
                    digits=digits,
                    event_name=event_name,
                    dial_status=dial,
                    caller=caller,
                    now=self.now,
                    render=self.render,
                )
        elapsed += self.rng.randrange(2, 8)
        self.now = when + timedelta(seconds=elapsed)
        with session_scope(self.ctx.sessions) as session:
            record_status(session, call_sid=sid, status="completed", duration=elapsed, now=self.now)

    def dispatch(self, when: datetime) -> None:

        report = Dispatcher(self.ctx).run_until_idle()
        self.stats.followups_sent += report.sent
        with session_scope(self.ctx.sessions) as session:
            rows = session.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.status.in_([OutboxStatus.QUEUED, OutboxStatus.SENT])
                )
            ).all()
            for row in rows:
                status = "delivered" if self.rng.random() < 0.93 else "undelivered"
                apply_status(
                    session,
                    sid=row.message_sid or "",
                    status=status,
                    error_code=None if status == "delivered" else 30003,
                    now=when,
                )


def seed(
    ctx: AppContext,
    *,
    days: int = 30,
    end: datetime | None = None,
    rng_seed: int = 7,
    scale: float = 1.0,
    progress: Progress | None = None,
) -> SeedStats:
    """Plays `days` days of demo traffic ending at `end` (default: now) into the database."""

    previous = (ctx.clock, ctx.gateway)
    ctx.gateway = TwilioGateway.from_settings(
        ctx.settings, http_client=OfflineTwilio(), sleep=lambda _s: None
    )
    finish = end or ctx.clock()
    try:
        seeder = Seeder(ctx, rng=random.Random(rng_seed), scale=scale)
        start = finish - timedelta(days=days)
        seeder.plan(start.replace(hour=0, minute=0, second=0, microsecond=0), days + 1)
        # Only what falls in [start, finish) happens.
        seeder.queue = [e for e in seeder.queue if e.at >= start]
        heapq.heapify(seeder.queue)
        return seeder.run(finish, progress)
    finally:
        ctx.clock = previous[0]
        if previous[1] is None:
            ctx.gateway = None
        else:
            ctx.gateway = previous[1]
