"""The reach report of a scope, and the channel comparison across media, from rollups."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.orm import Session

from campaigns.registry.enums import Channel
from campaigns.registry.models import Campaign
from campaigns.reports.data import ScopeData, load
from campaigns.reports.filters import Scope
from campaigns.reports.metrics import DURATION_BIN, FUNNEL_STEPS, Metric
from campaigns.reports.schemas import (
    Calls,
    CampaignReport,
    ChannelTable,
    Contacts,
    Cost,
    DailyRow,
    Followups,
    FunnelNode,
    Interactions,
    MediumRow,
    ReportScope,
    TopicCount,
)

UNATTRIBUTED = "unattributed"


def scope_of(scope: Scope) -> ReportScope:
    """The filter a report answers, as it is echoed back."""
    return ReportScope.model_validate(scope.flt.describe())


def campaign_report(session: Session, scope: Scope) -> CampaignReport:
    """Builds the full report of a scope (exact numbers; suppression is applied later)."""
    data = load(session, scope)
    everyone = data.union()
    unique = len(everyone)
    new = everyone.intersection_cardinality(data.firsts)
    calls = data.total(Metric.CALLS) or data.total(Metric.INTERACTIONS, channel=Channel.VOICE)
    half = (DURATION_BIN - 1) / 2
    durations = {str(int(k) + half): v for k, v in data.by_key(Metric.DURATION).items()}
    timed = sum(durations.values())
    return CampaignReport(
        filter=scope_of(scope),
        timezone=str(scope.zone),
        interactions=Interactions(
            total=data.total(Metric.INTERACTIONS),
            **{str(ch): data.total(Metric.INTERACTIONS, channel=ch) for ch in Channel},
        ),
        contacts=Contacts(unique=unique, new=new, returning=unique - new),
        calls=Calls(
            total=calls,
            completed=data.total(Metric.COMPLETED),
            mean_duration=round(data.total(Metric.CALL_SECONDS) / timed, 1) if timed else None,
            median_duration=median(durations),
        ),
        funnel=funnel(data),
        topics=[
            TopicCount(topic=k, count=v)
            for k, v in sorted(data.by_key(Metric.TOPIC).items(), key=lambda kv: (-kv[1], kv[0]))
        ],
        transfers=data.total(Metric.TRANSFERS),
        followups=Followups(
            opt_ins=data.total(Metric.OPT_INS),
            delivered=data.total(Metric.DELIVERED),
            opt_outs=data.total(Metric.OPT_OUTS),
        ),
        cost=cost(scope, data, [c for c in scope.campaigns if _in_scope(scope, c)]),
        daily=[
            DailyRow(day=day, **{str(ch): v.get(str(ch), 0) for ch in Channel})
            for day, v in sorted(data.daily.items())
        ],
    )


def channel_comparison(session: Session, scope: Scope) -> ChannelTable:
    """Compares media: unique contacts, interactions per contact, completion, cost per contact."""
    data = load(session, scope, daily=False)
    by_medium: dict[str, list[Campaign]] = {}
    for campaign in scope.campaigns:
        if _in_scope(scope, campaign):
            by_medium.setdefault(str(campaign.medium), []).append(campaign)
    rows = []
    for medium, campaigns in sorted(by_medium.items()):
        rows.append(_medium_row(scope, data, medium, campaigns, {c.id for c in campaigns}))
    if scope.campaign_ids is None and any(cid == 0 for cid, _ch in data.sets):
        rows.append(_medium_row(scope, data, UNATTRIBUTED, [], {0}))
    rows = [r for r in rows if r.interactions or r.unique_contacts]
    total = _medium_row(scope, data, "total", [c for cs in by_medium.values() for c in cs], None)
    return ChannelTable(filter=scope_of(scope), timezone=str(scope.zone), rows=rows, total=total)


def _medium_row(
    scope: Scope, data: ScopeData, medium: str, campaigns: list[Campaign], cells: set[int] | None
) -> MediumRow:
    unique = len(data.union(cells))
    interactions = data.total(Metric.INTERACTIONS, cells=cells)
    calls = data.total(Metric.CALLS, cells=cells) or data.total(
        Metric.INTERACTIONS, cells=cells, channel=Channel.VOICE
    )
    completed = data.total(Metric.COMPLETED, cells=cells)
    money = cost(scope, data, campaigns)
    return MediumRow(
        medium=medium,
        campaigns=len(campaigns),
        unique_contacts=unique,
        interactions=interactions,
        interactions_per_contact=round(interactions / unique, 2) if unique else None,
        calls=calls,
        calls_completed=completed,
        completion_rate=round(completed / calls, 3) if calls else None,
        cost=money.amount,
        currency=money.currency,
        cost_per_contact=money.per_contact,
    )


def _in_scope(scope: Scope, campaign: Campaign) -> bool:
    return scope.campaign_ids is None or campaign.id in scope.campaign_ids


def cost(scope: Scope, data: ScopeData, campaigns: list[Campaign]) -> Cost:
    """Divides the campaigns' cost by the distinct contacts they reached in the range.

    The cost is each campaign's whole cost (what was spent for it), so the figure is the
    campaign's cost per contact when the range covers its run and its responses.
    """
    costed = [c for c in campaigns if c.cost is not None]
    currencies = {c.currency or "" for c in costed}
    if not costed or len(currencies) != 1:
        return Cost(amount=None, currency=None, per_contact=None)
    amount = sum((Decimal(c.cost or 0) for c in costed), Decimal(0))
    reached = len(data.union({c.id for c in costed}))
    per = (amount / reached).quantize(Decimal("0.01")) if reached else None
    return Cost(
        amount=float(amount.quantize(Decimal("0.01"))),
        currency=currencies.pop() or None,
        per_contact=float(per) if per is not None else None,
    )


def funnel(data: ScopeData) -> list[FunnelNode]:
    """Lists each voice-menu node: reached, hung up there, no input, invalid, went on."""
    steps = {name: data.by_key(metric) for name, metric in FUNNEL_STEPS.items()}
    nodes = sorted(steps["reached"], key=lambda n: (-steps["reached"][n], n))
    return [
        FunnelNode(node=n, **{name: steps[name].get(n, 0) for name in FUNNEL_STEPS}) for n in nodes
    ]


def median(histogram: dict[str, int]) -> float | None:
    """Returns the exact median of a {seconds: calls} histogram."""
    total = sum(histogram.values())
    if not total:
        return None
    ordered = sorted((float(k), v) for k, v in histogram.items())
    wanted = [(total - 1) // 2, total // 2]
    found: list[float] = []
    seen = 0
    for value, count in ordered:
        while len(found) < 2 and wanted[len(found)] < seen + count:
            found.append(value)
        seen += count
    return (found[0] + found[1]) / 2
