"""Enumerations of the campaign domain."""

from __future__ import annotations

from enum import StrEnum


class Language(StrEnum):
    """The languages a campaign can declare (ISO 639-1)."""

    AZ = "az"
    RU = "ru"
    EN = "en"
    TR = "tr"
    KA = "ka"
    UK = "uk"
    UZ = "uz"
    KK = "kk"
    FA = "fa"
    AR = "ar"


class Medium(StrEnum):
    RADIO = "radio"
    TV = "tv"
    FLYER = "flyer"
    POSTER = "poster"
    STICKER = "sticker"
    CALENDAR = "calendar"
    NEWSPAPER = "newspaper"
    WEB = "web"
    OTHER = "other"


class Channel(StrEnum):
    SMS = "sms"
    WHATSAPP = "whatsapp"
    VOICE = "voice"


class Gateway(StrEnum):
    """What a number is reached through (the campaigns file's `channels`); Twilio by default."""

    TWILIO = "twilio"
    KANNEL = "kannel"
    HTTP = "http"


class Attribution(StrEnum):
    """How an inbound interaction was tied to a campaign."""

    NUMBER = "number"
    KEYWORD = "keyword"
    PSA_CODE = "psa_code"
    NONE = "none"


class InteractionKind(StrEnum):
    KEYWORD = "keyword"
    UNMATCHED = "unmatched"
    OPT_IN = "opt_in"
    OPT_OUT = "opt_out"
    OPT_BACK_IN = "opt_back_in"
    HELP = "help"
    CALL = "call"
    MISSED_CALL = "missed_call"
