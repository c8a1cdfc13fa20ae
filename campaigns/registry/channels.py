"""Which gateway each number is reached through (the campaigns file's `channels` block)."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.registry.enums import Gateway
from campaigns.registry.models import CampaignNumber, RegistrySetting

CHANNELS_KEY = "channels"  # {number: gateway} of the numbers not reached through Twilio


def gateways(session: Session) -> dict[str, Gateway]:
    """{number: gateway} of the numbers the loaded file lists under `channels`."""
    row = session.get(RegistrySetting, CHANNELS_KEY)
    stored = row.value if row is not None else {}
    return {str(number): Gateway(name) for number, name in stored.items()}


def gateway_of(session: Session, number: str) -> Gateway:
    """The gateway a number is reached through: as listed under `channels`, else Twilio."""
    return gateways(session).get(number, Gateway.TWILIO)


def numbers_of(session: Session, gateway: Gateway) -> list[str]:
    """The numbers of a gateway, listed under `channels`, that some campaign uses."""
    listed = [n for n, g in gateways(session).items() if g == gateway]
    used = set(
        session.scalars(select(CampaignNumber.number).where(CampaignNumber.number.in_(listed)))
    )
    return [n for n in listed if n in used]


def set_channels(session: Session, numbers: list[str], wanted: Mapping[str, str]) -> None:
    """Sets the gateway of a campaign's numbers (Twilio: listed nowhere) in the one setting."""
    # Locked: two campaigns saved at once each keep their numbers' channels (no lost update).
    row = session.get(RegistrySetting, CHANNELS_KEY, with_for_update=True)
    stored = dict(row.value) if row is not None else {}
    value = {n: g for n, g in stored.items() if n not in set(numbers)}
    value.update({n: str(g) for n, g in wanted.items() if n in numbers and g != Gateway.TWILIO})
    if row is None:
        session.add(RegistrySetting(key=CHANNELS_KEY, value=value))
    elif row.value != value:
        row.value = value
