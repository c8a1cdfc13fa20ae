"""When a series' messages fall due: offsets, local send times and quiet hours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from campaigns.registry.series import FollowupsSpec, SeriesSpec, parse_clock
from outreach.core.settings import Settings


@dataclass(frozen=True)
class QuietHours:
    """A daily local window with no sends; start > end means it spans midnight."""

    start: time
    end: time

    @classmethod
    def for_campaign(cls, settings: Settings, spec: FollowupsSpec | None) -> QuietHours:
        if spec is not None and spec.quiet_hours is not None:
            return cls(parse_clock(spec.quiet_hours.start), parse_clock(spec.quiet_hours.end))
        return cls(parse_clock(settings.quiet_hours_start), parse_clock(settings.quiet_hours_end))

    def contains(self, local: time) -> bool:
        if self.start == self.end:
            return False
        if self.start > self.end:
            return local >= self.start or local < self.end
        return self.start <= local < self.end

    def next_allowed(self, moment: datetime, zone: str) -> datetime:
        """Returns the moment itself, or the end of the quiet hours it falls in (UTC)."""
        tz = ZoneInfo(zone)
        local = moment.astimezone(tz)
        clock = local.time().replace(tzinfo=None)
        if not self.contains(clock):
            return moment.astimezone(UTC)
        day = local.date()
        if self.start > self.end and clock >= self.start:
            day += timedelta(days=1)  # late evening: the window ends tomorrow morning
        return datetime.combine(day, self.end, tzinfo=tz).astimezone(UTC)


def due_times(
    series: SeriesSpec, *, opted_in_at: datetime, zone: str, quiet: QuietHours
) -> list[datetime]:
    """Returns each message's due time (UTC), in order, moved out of quiet hours."""
    tz = ZoneInfo(zone)
    result: list[datetime] = []
    for message in series.messages:
        target = opted_in_at + message.delay
        at = message.local_time
        if at is not None:
            local_day = target.astimezone(tz).date()
            fixed = datetime.combine(local_day, at, tzinfo=tz)
            if fixed < opted_in_at:
                fixed += timedelta(days=1)
            target = fixed
        due = quiet.next_allowed(target, zone)
        if result and due < result[-1]:
            due = result[-1]
        result.append(due)
    return result
