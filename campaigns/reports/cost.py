"""Cost per contact: the share of each campaign's cost that falls in the report's dates.

A campaign's cost is spread evenly over its days (start_date to end_date, inclusive). A
report over some dates counts the share of those days inside them (pro rata), and divides it
by the distinct contacts the costed campaigns reached in those dates.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from campaigns.registry.models import Campaign
from campaigns.reports.bitsets import BitMap
from campaigns.reports.data import ScopeData
from campaigns.reports.disclosure import Tally
from campaigns.reports.filters import Scope
from campaigns.reports.schemas import Cost

CENT = Decimal("0.01")


def days_inside(campaign: Campaign, start: date, end: date) -> tuple[int, int]:
    """Returns (days of the campaign inside [start, end], days of the campaign)."""
    total = max((campaign.end_date - campaign.start_date).days + 1, 1)
    first, last = max(campaign.start_date, start), min(campaign.end_date, end)
    return max((last - first).days + 1, 0), total


def cost_in(campaign: Campaign, start: date, end: date) -> Decimal:
    """The part of a campaign's cost that falls in [start, end], by its days (unrounded)."""
    inside, total = days_inside(campaign, start, end)
    return Decimal(campaign.cost or 0) * inside / total


def cost(scope: Scope, data: ScopeData, campaigns: list[Campaign]) -> Cost:
    """Divides the campaigns' cost in the dates by the distinct contacts they reached there."""
    costed = _costed(campaigns)
    currencies = {c.currency or "" for c in costed}
    if not costed or len(currencies) != 1:
        return Cost(amount=None, currency=None, per_contact=None)
    flt = scope.flt
    amount = sum((cost_in(c, flt.start, flt.end) for c in costed), Decimal(0)).quantize(CENT)
    reached = len(reach(data, campaigns))
    per = (amount / reached).quantize(CENT) if reached else None
    return Cost(
        amount=float(amount),
        currency=currencies.pop() or None,
        per_contact=float(per) if per is not None else None,
    )


def _costed(campaigns: list[Campaign]) -> list[Campaign]:
    return [c for c in campaigns if c.cost is not None]


def reach(data: ScopeData, campaigns: list[Campaign]) -> BitMap:
    """The distinct contacts the costed campaigns reached: what cost per contact divides by."""
    return data.union({c.id for c in _costed(campaigns)})


def reach_tally(data: ScopeData, campaigns: list[Campaign]) -> Tally:
    """The same contacts as a tally, for the viewer rules (cost per contact's divisor)."""
    ids = {c.id for c in _costed(campaigns)}
    return Tally(members=data.union(ids), kind="contacts", cells=frozenset(ids))
