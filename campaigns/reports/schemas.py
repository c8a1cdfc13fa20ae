"""Report payloads: what the API returns, the dashboard and CSV render and `outreach report`
prints. One set of models, so /openapi.json describes what they all share.

Counts are `Count`: an integer, or for viewers "<K" when fewer than K people are behind it.
Viewers' integers are also rounded (see campaigns.reports.disclosure); managers' are exact.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from functools import cache
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
)

Hidden = Annotated[
    str,
    StringConstraints(pattern=r"^<[0-9]+$"),
    Field(description='A count hidden from viewers: "<K", fewer than K people are behind it'),
]
Count = int | Hidden
# Datetimes keep their offset as written (+00:00), as the API always gave them.
Timestamp = Annotated[
    datetime,
    PlainSerializer(lambda v: v.isoformat(), return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


def _unless_none(value: object) -> bool:
    return value is None


class Payload(BaseModel):
    """A report payload. It also reads like the JSON it serialises to: `report["contacts"]`
    and `filter["from"]` work, and it equals a mapping holding that JSON."""

    model_config = ConfigDict(validate_by_name=True, validate_by_alias=True)

    def __getitem__(self, key: str) -> Any:
        try:
            return getattr(self, _names(type(self)).get(key, key))
        except AttributeError:
            raise KeyError(key) from None

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return bool(self.model_dump(mode="json", by_alias=True) == dict(other))
        return super().__eq__(other)

    __hash__ = None  # type: ignore[assignment]


@cache
def _names(model: type[BaseModel]) -> dict[str, str]:
    """Maps each field's alias to its attribute name."""
    return {f.alias: name for name, f in model.model_fields.items() if f.alias}


class ReportScope(Payload):
    """The filter a report answers (dates are inclusive local days)."""

    start: date = Field(alias="from")
    end: date = Field(alias="to")
    campaign: str | None = None
    medium: str | None = None
    region: str | None = None
    language: str | None = None
    channel: str | None = None


class Suppressed(Payload):
    """Present for viewers: counts from fewer than `k` people are hidden, the others rounded
    to a multiple of `base` (1: not rounded)."""

    k: int
    base: int


class Interactions(Payload):
    total: Count
    sms: Count
    whatsapp: Count
    voice: Count


class Contacts(Payload):
    unique: Count
    new: Count = Field(description="first interaction ever in the range")
    returning: Count


class Calls(Payload):
    total: Count
    completed: Count
    mean_duration: float | None = Field(description="seconds")
    median_duration: float | None = Field(description="seconds, to the middle of a 5 s bin")


class FunnelNode(Payload):
    """One voice-menu node: calls that reached it, hung up there, gave no or invalid input,
    and went on."""

    node: str
    reached: Count
    hung_up: Count
    no_input: Count
    invalid: Count
    went_on: Count


class TopicCount(Payload):
    topic: str
    count: Count


class KeywordCount(Payload):
    """Texts that matched one keyword of one campaign (the keyword as matching folds it)."""

    campaign: str
    keyword: str
    count: Count


class Followups(Payload):
    opt_ins: Count
    delivered: Count
    opt_outs: Count


class Cost(Payload):
    amount: float | None = Field(
        description="the campaigns' cost that falls in the chosen dates: each campaign's cost"
        " spread evenly over its days, the days inside the dates counted (pro rata)"
    )
    currency: str | None
    per_contact: float | None = Field(
        description="that cost divided by the distinct contacts the costed campaigns reached"
        " in the dates"
    )


class DailyRow(Payload):
    """Interactions of one local day by channel."""

    day: date
    sms: Count
    whatsapp: Count
    voice: Count


class GatewayCount(Payload):
    """Interactions of one channel that one gateway carried (an SMS through Kannel, a call
    through Twilio)."""

    channel: str = Field(examples=["sms"])
    gateway: str = Field(examples=["kannel"])
    interactions: Count


class CampaignReport(Payload):
    """The reach report of a filter."""

    filter: ReportScope
    timezone: str
    interactions: Interactions
    gateways: list[GatewayCount] = Field(description="interactions by channel and gateway")
    contacts: Contacts
    calls: Calls
    funnel: list[FunnelNode]
    topics: list[TopicCount]
    keywords: list[KeywordCount] = Field(description="texts per keyword and campaign")
    transfers: Count
    followups: Followups
    cost: Cost
    daily: list[DailyRow]
    suppressed: Suppressed | None = Field(default=None, exclude_if=_unless_none)


class MediumRow(Payload):
    """One medium (or "unattributed", or the "total") of the channel comparison."""

    medium: str
    campaign: str | None = Field(default=None, description="the campaign's code (by campaign)")
    campaigns: int
    unique_contacts: Count
    interactions: Count
    interactions_per_contact: float | None
    calls: Count
    calls_completed: Count
    completion_rate: float | None
    cost: float | None = Field(description="the cost that falls in the chosen dates (pro rata)")
    currency: str | None
    cost_per_contact: float | None


class ChannelTable(Payload):
    """Media (or campaigns) side by side; a person who answered two counts once in each and
    once in the total."""

    filter: ReportScope
    timezone: str
    by: str = Field(default="medium", description='"medium" or "campaign": what a row is')
    rows: list[MediumRow]
    total: MediumRow
    suppressed: Suppressed | None = Field(default=None, exclude_if=_unless_none)


class AiringLift(Payload):
    """Calls per minute around one airing, the baseline before it and the excess after."""

    id: int
    campaign: str
    station: str
    aired_at: Timestamp
    duration_seconds: int
    per_minute: list[Count]
    baseline_per_minute: float | None
    baseline_minutes_used: int
    calls_after: Count
    excess_calls: float | None
    aired_local: str = Field(description="YYYY-MM-DD HH:MM in the report time zone")


class StationLift(Payload):
    station: str
    airings: int
    calls_after: Count
    excess_calls: float | None
    mean_excess_per_airing: float | None
    mean_per_minute: list[float | None]


class LiftReport(Payload):
    """The airing lift of a filter, per airing and per station."""

    filter: ReportScope
    timezone: str
    before_minutes: int
    after_minutes: int
    minutes: list[int]
    airings: list[AiringLift]
    stations: list[StationLift]
    suppressed: Suppressed | None = Field(default=None, exclude_if=_unless_none)


class FloipField(Payload):
    name: str
    title: str
    type: str


class FloipChoices(Payload):
    choices: list[str]


class FloipQuestion(Payload):
    type: str
    label: str
    type_options: FloipChoices


class FloipSchema(Payload):
    language: str | None = Field(
        default=None, exclude_if=_unless_none, description="ISO 639-3 code"
    )
    fields: list[FloipField]
    questions: dict[str, FloipQuestion]


class FloipResource(Payload):
    name: str
    path: str | None = Field(default=None, exclude_if=_unless_none)
    api_data_url: str | None = Field(default=None, exclude_if=_unless_none)
    schema_: FloipSchema = Field(alias="schema")


class FloipPackage(Payload):
    """A FLOIP Flow Results package descriptor (specification 1.0.0-rc1)."""

    profile: str
    flow_results_specification_version: str
    created: str
    modified: str
    id: str
    name: str
    title: str
    resources: list[FloipResource]


# timestamp, row id, contact id (keyed hash), session id (CallSid), question, answer, metadata
FloipRow = tuple[str, str, str, str, str, Any, dict[str, Any]]


class FloipAttributes(Payload):
    responses: list[FloipRow]


class FloipData(Payload):
    type: str
    id: str
    attributes: FloipAttributes


class FloipResponses(Payload):
    data: FloipData
