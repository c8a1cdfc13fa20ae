"""The campaigns YAML file, as pydantic models (structure and per-field rules).

The same models are the JSON API's bodies and the dashboard's form rules (cost), so a value is
accepted or refused alike wherever it is entered.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    TypeAdapter,
    field_validator,
    model_validator,
)

from campaigns.registry.enums import Gateway, Language, Medium
from outreach.core.privacy import is_valid_number, normalize_number

# Days a campaign, a report range or an airing may name: far enough either side of any real
# campaign, near enough that date arithmetic (a day after the end, a window around an airing)
# never leaves what dates and databases can hold.
EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2099, 12, 31)
Day = Annotated[date, Field(ge=EARLIEST_DAY, le=LATEST_DAY)]

# A campaign's cost: a finite, non-negative amount that fits the Numeric(14, 2) column.
MAX_COST = Decimal("999999999999.99")
Cost = Annotated[
    Decimal,
    Field(ge=0, le=MAX_COST, max_digits=14, decimal_places=2, allow_inf_nan=False),
    PlainSerializer(float, return_type=float, when_used="json"),
]
COST_ADAPTER: TypeAdapter[Decimal] = TypeAdapter(Cost)
MAX_REPLY = 1600


SHORT_CODE = re.compile(r"[0-9]{3,8}", re.ASCII)


def _check_number(value: str) -> str:
    text = str(value).strip()
    if SHORT_CODE.fullmatch(text):
        return text  # an operator's short code (texted through Kannel or an aggregator)
    if not is_valid_number(text):
        raise ValueError(
            f"invalid phone number {text!r} (use E.164, e.g. +994125550101, or a 3-8 digit "
            "short code)"
        )
    return normalize_number(text) or text


PhoneNumber = Annotated[str, AfterValidator(_check_number)]


def _check_languages(values: list[Language]) -> list[Language]:
    if not values:
        raise ValueError("at least one language is needed")
    if len(set(values)) != len(values):
        raise ValueError("a language is listed twice")
    return values


def _check_timezone(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ValueError(f"unknown time zone {value!r}") from exc
    return value


def parse_cost(text: str) -> Decimal | None:
    """Parses a cost typed in a form ('' is no cost) by the same rule as the API and YAML."""
    text = text.strip()
    return COST_ADAPTER.validate_python(text) if text else None


TimeZoneName = Annotated[
    str | None,
    Field(
        max_length=64,
        description="IANA time zone; when absent, OUTREACH_DEFAULT_TIMEZONE",
        examples=["Asia/Baku"],
    ),
    AfterValidator(_check_timezone),
]


class KeywordSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    keyword: str = Field(min_length=1, max_length=64)
    language: Language


class VoiceSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    flow: str = Field(
        min_length=1,
        max_length=255,
        description="a .yaml file, relative to the flows folder (OUTREACH_FLOWS_DIR, or the "
        "campaigns file's folder)",
    )
    missed_call_callback: bool = False


class CampaignSpec(BaseModel):
    """One campaign entry; unknown top-level keys are kept in `extra` for later features."""

    model_config = ConfigDict(extra="allow")

    code: str = Field(pattern=r"^[A-Z0-9][A-Z0-9_-]{1,63}$")
    name: str = Field(min_length=1, max_length=200)
    medium: Medium
    region: str | None = Field(default=None, max_length=100)
    languages: list[Language] = Field(max_length=len(Language))
    start: Day
    end: Day
    cost: Cost | None = None
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    timezone: TimeZoneName = None
    numbers: list[PhoneNumber] = Field(default_factory=list, max_length=20)
    keywords: list[KeywordSpec] = Field(default_factory=list, max_length=50)
    replies: dict[str, Annotated[str, Field(max_length=MAX_REPLY)]] = Field(
        default_factory=dict, max_length=len(Language)
    )
    psa_codes: list[str] = Field(default_factory=list, max_length=20)
    voice: VoiceSpec | None = None
    # Kept in the file's top-level `channels` block (the registry's one setting per number).
    channels: dict[PhoneNumber, Gateway] = Field(
        default_factory=dict,
        max_length=20,
        description="the gateway of each of its numbers not reached through Twilio",
    )
    archived: bool = Field(
        default=False, description="an archived campaign is kept for its reports, out of lists"
    )
    version: int | None = Field(
        default=None,
        ge=1,
        le=2**31 - 1,
        description="the version this document was read at (GET gives it); a save naming an "
        "older version is refused with 409, so no change is lost. Left out: no check",
    )

    @field_validator("languages")
    @classmethod
    def _languages(cls, values: list[Language]) -> list[Language]:
        return _check_languages(values)

    @field_validator("channels")
    @classmethod
    def _channels(cls, value: dict[str, Gateway]) -> dict[str, Gateway]:
        return {n: g for n, g in value.items() if g != Gateway.TWILIO}  # Twilio: the default

    @model_validator(mode="after")
    def _channel_numbers(self) -> CampaignSpec:
        for number in self.channels:
            if number not in self.numbers:
                raise ValueError(f"channels: {number} is not one of the campaign's numbers")
        return self

    @field_validator("psa_codes", mode="before")
    @classmethod
    def _psa(cls, values: Any) -> list[str]:
        codes = [str(v) for v in (values or [])]
        for code in codes:
            if not code.isdigit() or not 1 <= len(code) <= 8:
                raise ValueError(f"PSA code {code!r} must be 1-8 digits")
        return codes

    @property
    def extra(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class HotlineSpec(BaseModel):
    model_config = ConfigDict(extra="allow")

    number: PhoneNumber
    name: str
    languages: list[Language] = Field(
        default_factory=lambda: [Language.AZ, Language.RU, Language.EN]
    )
    flow: str | None = None
    timezone: TimeZoneName = None
    replies: dict[str, str] = Field(default_factory=dict)

    @field_validator("languages")
    @classmethod
    def _languages(cls, values: list[Language]) -> list[Language]:
        return _check_languages(values)


class OrganisationSpec(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str = "Outreach"
    languages: list[Language] = Field(default_factory=lambda: [Language.EN])
    # Reply to a text that matches no keyword; `{keywords}` lists what can be texted.
    default_reply: dict[str, str] = Field(default_factory=dict)
    help_reply: dict[str, str] = Field(default_factory=dict)


def _check_channels(value: dict[Gateway, list[str]]) -> dict[Gateway, list[str]]:
    seen: dict[str, Gateway] = {}
    for gateway, numbers in value.items():
        for number in numbers:
            if number in seen and seen[number] != gateway:
                raise ValueError(f"{number} is listed under both {seen[number]} and {gateway}")
            seen[number] = gateway
    return value


Channels = Annotated[
    dict[Gateway, Annotated[list[PhoneNumber], Field(max_length=200)]],
    Field(
        description="numbers reached through a gateway other than Twilio, by gateway; a number "
        "listed nowhere is a Twilio number",
        examples=[{"kannel": ["8080"]}],
    ),
    AfterValidator(_check_channels),
]


class CampaignFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = 1
    organisation: OrganisationSpec = Field(default_factory=OrganisationSpec)
    channels: Channels = Field(default_factory=dict)
    hotlines: list[HotlineSpec] = Field(default_factory=list)
    campaigns: list[CampaignSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_channel_per_number(self) -> CampaignFile:
        """A campaign's own `channels` join the file's block; each campaign gets its numbers'."""
        listed = {n: g for g, numbers in self.channels.items() for n in numbers}
        for camp in self.campaigns:
            for number, gateway in camp.channels.items():
                if listed.setdefault(number, gateway) != gateway:
                    raise ValueError(
                        f"{number} is listed under both {listed[number]} and {gateway}"
                    )
        for camp in self.campaigns:
            camp.channels = {
                n: listed[n] for n in camp.numbers if listed.get(n, Gateway.TWILIO) != "twilio"
            }
        self.channels = {}
        for number, gateway in listed.items():
            self.channels.setdefault(gateway, []).append(number)
        return self

    def gateways(self) -> dict[str, str]:
        """Each listed number's gateway (numbers listed nowhere are Twilio's)."""
        return {n: str(g) for g, numbers in self.channels.items() for n in numbers}
