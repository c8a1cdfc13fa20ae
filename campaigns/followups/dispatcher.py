"""The outbox dispatcher: claims due rows atomically, sends them, records what happened.

Delivery guarantee (see BENCHMARKS.md, "Follow-up dispatch"): at least once. A row is claimed
under a lease and committed before its send; the result is committed right after. A worker
killed between the two leaves the row claimed; once the lease expires any worker puts it back
to pending and sends it again, so the one message that was on the wire at the kill may reach
the person twice. Rows claimed in the same batch but not yet sent go out exactly once.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from campaigns.followups.consent import (
    fail_enrollment,
    finish_if_done,
    is_suppressed,
    opt_out,
)
from campaigns.followups.delivery import status_from_twilio
from campaigns.followups.models import (
    STATUS_RANK,
    Enrollment,
    EnrollmentStatus,
    OutboxMessage,
    OutboxStatus,
)
from campaigns.followups.outbox import claim_batch, reclaim_expired, release
from campaigns.followups.schedule import QuietHours
from campaigns.registry.channels import gateway_of
from campaigns.registry.models import Campaign
from campaigns.registry.series import FollowupsSpec, parse_followups
from outreach.core.channels import TWILIO, get_sender, status_callback
from outreach.core.context import AppContext
from outreach.core.db import session_scope
from outreach.core.gateway import PERMANENT_CODES, GatewayError, TwilioGateway, get_gateway
from outreach.core.logs import event
from outreach.core.metrics import SENDS
from outreach.core.privacy import Address

log = logging.getLogger(__name__)

BATCH_MAX = 200  # rows per sender and batch


@dataclass
class DispatchReport:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0
    deferred: int = 0
    released: int = 0
    reclaimed: int = 0

    def add(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)


@dataclass(frozen=True)
class _Job:
    """What a send needs, read before the send so no transaction stays open over HTTP."""

    row_id: int
    to: str
    sender: str
    body: str
    channel: str
    gateway: str = TWILIO


class Dispatcher:
    """Sends due outbox rows through the gateway; safe to run in several workers at once."""

    def __init__(self, ctx: AppContext, gateway: TwilioGateway | None = None) -> None:
        self.ctx = ctx
        self.settings = ctx.settings
        self.gateway = gateway or get_gateway(ctx)
        self.lease = timedelta(seconds=max(1, self.settings.dispatch_lease_seconds))
        # Stop sending a batch this long before its lease ends; the rest is released.
        self.margin = min(self.lease / 2, timedelta(seconds=30))
        self._specs: dict[int, tuple[FollowupsSpec | None, QuietHours]] = {}
        self._twilio_ready = gateway is not None or bool(
            self.settings.twilio_account_sid and self.settings.twilio_auth_token
        )

    @property
    def batch_size(self) -> int:
        rate = self.settings.send_rate_per_second
        if rate <= 0:
            return BATCH_MAX
        # A sender's share of a batch must go out well within the lease at its rate.
        return max(1, min(BATCH_MAX, int(rate * self.lease.total_seconds() / 4)))

    def run_once(self, limit: int | None = None) -> DispatchReport:
        """Claims one batch of due rows and sends it; returns what happened."""
        report = DispatchReport()
        self._specs.clear()
        now = self.ctx.clock()
        token = uuid.uuid4().hex
        with session_scope(self.ctx.sessions) as session:
            report.reclaimed = reclaim_expired(
                session, now=now, max_attempts=self.settings.send_max_attempts
            )
            ids = claim_batch(
                session,
                now=now,
                token=token,
                per_sender=limit or self.batch_size,
                lease=self.lease,
                skip_locked=not self.settings.is_sqlite,
            )
        report.claimed = len(ids)
        for row_id in ids:
            outcome = self._process(row_id, token)
            report.add(outcome)
        return report

    def run_until_idle(self, max_batches: int = 1_000_000) -> DispatchReport:
        """Runs batches until none is due (used by tests, the benchmark and `--once`)."""
        total = DispatchReport()
        for _ in range(max_batches):
            report = self.run_once()
            for name in (
                "claimed",
                "sent",
                "retried",
                "failed",
                "cancelled",
                "deferred",
                "released",
                "reclaimed",
            ):
                setattr(total, name, getattr(total, name) + getattr(report, name))
            if report.claimed == 0:
                break
        return total

    def _process(self, row_id: int, token: str) -> str:
        """Sends one claimed row; returns the outcome name."""
        with session_scope(self.ctx.sessions) as session:
            prepared = self._prepare(session, row_id, token)
        if not isinstance(prepared, _Job):
            return prepared
        # The row id rides in the (signed) callback URL, so a status that beats our own
        # record of the sid, or arrives for a sid we could not keep, still finds its row.
        callback = status_callback(self.settings, prepared.gateway, row_id)
        sender = (
            self.gateway if prepared.gateway == TWILIO else get_sender(self.ctx, prepared.gateway)
        )
        try:
            result = sender.send_sms(
                to=prepared.to, from_=prepared.sender, body=prepared.body, status_callback=callback
            )
        except GatewayError as exc:
            with session_scope(self.ctx.sessions) as session:
                outcome = self._record_error(session, row_id, token, exc)
        else:
            outcome = self._record_sent(row_id, token, result.sid, result.status)
        # Each attempt that reached the gateway, once its result is committed.
        SENDS.labels(channel=prepared.channel, status=outcome).inc()
        return outcome

    def _prepare(self, session: Session, row_id: int, token: str) -> _Job | str:
        row = session.get(OutboxMessage, row_id)
        if row is None or row.claim_token != token or row.status != OutboxStatus.CLAIMED:
            return "cancelled"  # opted out (or re-claimed) since we claimed it
        now = self.ctx.clock()
        if row.lease_until is not None and now >= row.lease_until - self.margin:
            release(row, now)
            return "released"
        enrollment = session.get(Enrollment, row.enrollment_id)
        if (
            enrollment is None
            or enrollment.status != EnrollmentStatus.ACTIVE
            or enrollment.number_enc is None
            or is_suppressed(session, row.contact_id)
        ):
            row.status = OutboxStatus.CANCELLED
            row.claim_token = None
            if enrollment is not None:
                finish_if_done(session, enrollment, now)
            return "cancelled"
        spec, quiet = self._spec(session, row.campaign_id)
        allowed = quiet.next_allowed(now, enrollment.timezone)
        if allowed > now:
            # Woke up inside quiet hours (e.g. after downtime): wait for the morning.
            release(row, now, due_at=allowed)
            return "deferred"
        body = _text(spec, enrollment, row.step)
        if body is None:
            row.status = OutboxStatus.FAILED
            row.claim_token = None
            finish_if_done(session, enrollment, now)
            log.error("follow-up text missing (series changed?)", extra={"outbox_id": row.id})
            return "failed"
        number = self.ctx.vault.open(enrollment.number_enc)
        whatsapp = enrollment.channel == "whatsapp"
        # WhatsApp is Twilio's; an SMS goes through the gateway of the number it came from.
        gateway = TWILIO if whatsapp else str(gateway_of(session, enrollment.sender))
        if gateway == TWILIO and not self._twilio_ready:
            # Running for Kannel or HTTP numbers only: Twilio's rows wait, as with no dispatcher.
            release(row, now, due_at=now + timedelta(seconds=self.settings.send_retry_base_seconds))
            return "deferred"
        return _Job(
            row_id=row.id,
            to=Address(number, whatsapp).twilio_form(),
            sender=Address(enrollment.sender, whatsapp).twilio_form(),
            body=body,
            channel=enrollment.channel,
            gateway=gateway,
        )

    def _spec(self, session: Session, campaign_id: int) -> tuple[FollowupsSpec | None, QuietHours]:
        cached = self._specs.get(campaign_id)
        if cached is None:
            campaign = session.get(Campaign, campaign_id)
            spec = parse_followups(campaign.options or {}) if campaign is not None else None
            cached = (spec, QuietHours.for_campaign(self.settings, spec))
            self._specs[campaign_id] = cached
        return cached

    def _record_sent(self, row_id: int, token: str, sid: str | None, status: str) -> str:
        for keep_sid in (True, False):
            try:
                with session_scope(self.ctx.sessions) as session:
                    self._mark_sent(session, row_id, token, sid if keep_sid else None, status)
                return "sent"
            except IntegrityError:
                # A sid we already hold: real Twilio never repeats one; mocks do. Keep the send.
                log.warning("provider returned a message sid twice", extra={"outbox_id": row_id})
        return "sent"

    def _mark_sent(
        self, session: Session, row_id: int, token: str, sid: str | None, status: str
    ) -> None:
        # Locked: a delivery callback can beat this record (see `apply_status`).
        row = session.get(OutboxMessage, row_id, with_for_update=True)
        if row is None or row.claim_token != token:
            return
        now = self.ctx.clock()
        accepted = status_from_twilio(status) or OutboxStatus.QUEUED
        current = OutboxStatus(row.status)
        # The message left even if an opt-out cancelled the row meanwhile: record the truth.
        # A delivery callback may already have moved it further: never move it back.
        if current in (OutboxStatus.CLAIMED, OutboxStatus.CANCELLED) or (
            STATUS_RANK[accepted] > STATUS_RANK[current]
        ):
            row.status = accepted
        row.message_sid = sid or row.message_sid
        row.sent_at = now
        row.claim_token = None
        row.lease_until = None
        row.updated_at = now
        session.flush()
        enrollment = session.get(Enrollment, row.enrollment_id)
        if enrollment is not None:
            finish_if_done(session, enrollment, now)
        event(log, "follow-up sent", contact=row.contact_id, outbox_id=row.id, step=row.step)

    def _record_error(self, session: Session, row_id: int, token: str, exc: GatewayError) -> str:
        row = session.get(OutboxMessage, row_id, with_for_update=True)
        if row is None or row.claim_token != token:
            return "cancelled"
        now = self.ctx.clock()
        row.error_code = exc.code or exc.status
        enrollment = session.get(Enrollment, row.enrollment_id)
        fields = {
            "contact": row.contact_id,
            "outbox_id": row.id,
            "code": exc.code,
            "status": exc.status,
            "attempt": row.attempts,
        }
        if not exc.permanent and row.attempts < self.settings.send_max_attempts:
            delay = self.settings.send_retry_base_seconds * 2 ** (row.attempts - 1)
            _, quiet = self._spec(session, row.campaign_id)
            zone = enrollment.timezone if enrollment else self.settings.default_timezone
            release(
                row,
                now,
                due_at=quiet.next_allowed(now + timedelta(seconds=delay), zone),
                attempt_used=True,
            )
            log.warning("follow-up send failed; will retry", extra=fields)
            return "retried"
        row.status = OutboxStatus.FAILED
        row.claim_token = None
        row.lease_until = None
        session.flush()
        log.warning("follow-up send failed for good", extra=fields)
        if exc.suppress_contact:
            opt_out(
                session,
                contact_id=row.contact_id,
                channel="sms",
                source="twilio_21610",
                now=now,
                campaign_id=row.campaign_id,
            )
        elif enrollment is not None and exc.code in PERMANENT_CODES:
            fail_enrollment(session, enrollment, now)
        elif enrollment is not None:
            finish_if_done(session, enrollment, now)
        return "failed"


def _text(spec: FollowupsSpec | None, enrollment: Enrollment, step: int) -> str | None:
    series = spec.find(enrollment.series_id) if spec is not None else None
    if series is None or step >= len(series.messages):
        return None
    texts = series.messages[step].text
    return texts.get(enrollment.language) or next(iter(texts.values()), None)
