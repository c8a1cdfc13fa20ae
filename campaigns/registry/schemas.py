"""The campaigns YAML file, as pydantic models (structure and per-field rules)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from campaigns.registry.enums import Medium
from outreach.core.privacy import is_valid_number, normalize_number

LANGUAGE_CODES = {"az", "ru", "en", "tr", "ka", "uk", "uz", "kk", "fa", "ar"}


def _check_number(value: str) -> str:
    text = str(value).strip()
    if not is_valid_number(text):
        raise ValueError(f"invalid phone number {text!r} (use E.164, e.g. +994125550101)")
    return normalize_number(text) or text


PhoneNumber = Annotated[str, AfterValidator(_check_number)]


def _check_languages(values: list[str]) -> list[str]:
    if not values:
        raise ValueError("at least one language is needed")
    unknown = [v for v in values if v not in LANGUAGE_CODES]
    if unknown:
        raise ValueError(f"unknown language code(s) {unknown}; known: {sorted(LANGUAGE_CODES)}")
    if len(set(values)) != len(values):
        raise ValueError("a language is listed twice")
    return values


class KeywordSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    keyword: str = Field(min_length=1, max_length=64)
    language: str


class VoiceSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    flow: str
    missed_call_callback: bool = False


class CampaignSpec(BaseModel):
    """One campaign entry; unknown top-level keys are kept in `extra` for later features."""

    model_config = ConfigDict(extra="allow")

    code: str = Field(pattern=r"^[A-Z0-9][A-Z0-9_-]{1,63}$")
    name: str = Field(min_length=1, max_length=200)
    medium: Medium
    region: str | None = None
    languages: list[str]
    start: date
    end: date
    cost: Decimal | None = Field(default=None, ge=0)
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    timezone: str = "Asia/Baku"
    numbers: list[PhoneNumber] = Field(default_factory=list)
    keywords: list[KeywordSpec] = Field(default_factory=list)
    replies: dict[str, str] = Field(default_factory=dict)
    psa_codes: list[str] = Field(default_factory=list)
    voice: VoiceSpec | None = None

    @field_validator("languages")
    @classmethod
    def _languages(cls, values: list[str]) -> list[str]:
        return _check_languages(values)

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

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
    languages: list[str] = Field(default_factory=lambda: ["az", "ru", "en"])
    flow: str | None = None
    timezone: str = "Asia/Baku"
    replies: dict[str, str] = Field(default_factory=dict)

    @field_validator("languages")
    @classmethod
    def _languages(cls, values: list[str]) -> list[str]:
        return _check_languages(values)


class OrganisationSpec(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str = "Outreach"
    languages: list[str] = Field(default_factory=lambda: ["en"])
    # Reply to a text that matches no keyword; `{keywords}` lists what can be texted.
    default_reply: dict[str, str] = Field(default_factory=dict)
    help_reply: dict[str, str] = Field(default_factory=dict)


class CampaignFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = 1
    organisation: OrganisationSpec = Field(default_factory=OrganisationSpec)
    hotlines: list[HotlineSpec] = Field(default_factory=list)
    campaigns: list[CampaignSpec] = Field(default_factory=list)
