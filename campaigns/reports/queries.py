"""The reach report of a scope, and the channel comparison by medium or campaign, from rollups."""

from __future__ import annotations

from sqlalchemy.orm import Session

from campaigns.registry.enums import Channel
from campaigns.registry.models import Campaign
from campaigns.reports.cost import cost, reach_tally
from campaigns.reports.data import ScopeData, load
from campaigns.reports.disclosure import Ledger, Path
from campaigns.reports.filters import Scope
from campaigns.reports.metrics import DURATION_BIN, FUNNEL_STEPS, Metric
from campaigns.reports.schemas import (
    Calls,
    CampaignReport,
    ChannelTable,
    Contacts,
    DailyRow,
    Followups,
    FunnelNode,
    GatewayCount,
    Interactions,
    KeywordCount,
    MediumRow,
    ReportScope,
    TopicCount,
)

UNATTRIBUTED = "unattributed"


def scope_of(scope: Scope) -> ReportScope:
    """The filter a report answers, as it is echoed back."""
    return ReportScope.model_validate(scope.flt.describe())


def campaign_report(
    session: Session, scope: Scope, *, people: bool = False
) -> tuple[CampaignReport, Ledger]:
    """Builds the full report of a scope (exact numbers) and the ledger of how each count was
    obtained (`people` also loads what the viewer rules need)."""
    data = load(session, scope, people=people)
    led = Ledger(data)
    everyone = data.union()
    unique = led.people(("contacts", "unique"), everyone)
    new = led.people(("contacts", "new"), everyone & data.firsts, "new")
    returning = led.people(("contacts", "returning"), everyone - data.firsts, "returning")
    half = (DURATION_BIN - 1) / 2
    durations = {str(int(k) + half): v for k, v in data.by_key(Metric.DURATION).items()}
    timed = sum(durations.values())
    steps = {name: data.by_key(metric) for name, metric in FUNNEL_STEPS.items()}
    nodes = sorted(steps["reached"], key=lambda n: (-steps["reached"][n], n))
    topics = sorted(data.by_key(Metric.TOPIC).items(), key=lambda kv: (-kv[1], kv[0]))
    in_scope = [c for c in scope.campaigns if _in_scope(scope, c)]
    led.divisors[("cost", "per_contact")] = reach_tally(data, in_scope)
    names = {c.id: c.code for c in scope.campaigns}
    report = CampaignReport(
        filter=scope_of(scope),
        timezone=str(scope.zone),
        interactions=Interactions(
            total=led.count(("interactions", "total"), Metric.INTERACTIONS),
            **{
                str(ch): led.count(("interactions", str(ch)), Metric.INTERACTIONS, channel=ch)
                for ch in Channel
            },
        ),
        gateways=[
            GatewayCount(
                channel=channel,
                gateway=gateway,
                interactions=led.count(
                    ("gateways", i, "interactions"), Metric.GATEWAY, gateway, channel=channel
                ),
            )
            for i, (channel, gateway) in enumerate(_gateway_cells(data))
        ],
        contacts=Contacts(unique=unique, new=new, returning=returning),
        calls=Calls(
            total=_calls(led, ("calls", "total"), None),
            completed=led.count(("calls", "completed"), Metric.COMPLETED),
            mean_duration=round(data.total(Metric.CALL_SECONDS) / timed, 1) if timed else None,
            median_duration=median(durations),
        ),
        funnel=[
            FunnelNode(
                node=node,
                **{
                    name: led.count(("funnel", i, name), metric, node)
                    for name, metric in FUNNEL_STEPS.items()
                },
            )
            for i, node in enumerate(nodes)
        ],
        topics=[
            TopicCount(topic=topic, count=led.count(("topics", i, "count"), Metric.TOPIC, topic))
            for i, (topic, _count) in enumerate(topics)
        ],
        keywords=_keywords(led, names),
        transfers=led.count(("transfers",), Metric.TRANSFERS),
        followups=Followups(
            opt_ins=led.count(("followups", "opt_ins"), Metric.OPT_INS),
            delivered=led.count(("followups", "delivered"), Metric.DELIVERED),
            opt_outs=led.count(("followups", "opt_outs"), Metric.OPT_OUTS),
        ),
        cost=cost(scope, data, in_scope),
        daily=[
            DailyRow(
                day=day, **{str(ch): led.day(("daily", i, str(ch)), day, ch) for ch in Channel}
            )
            for i, day in enumerate(sorted(data.daily))
        ],
    )
    return report, led


def _gateway_cells(data: ScopeData) -> list[tuple[str, str]]:
    """(channel, gateway) pairs that carried something, in channel then gateway order."""
    return sorted(
        {(ch, key) for (_cid, ch, metric, key) in data.counts if metric == Metric.GATEWAY}
    )


def _calls(led: Ledger, path: Path, cells: set[int] | None) -> int:
    # Calls are call records; logs from before those existed count voice interactions.
    if led.data.total(Metric.CALLS, cells=cells):
        return led.count(path, Metric.CALLS, cells=cells)
    return led.count(path, Metric.INTERACTIONS, cells=cells, channel=Channel.VOICE)


def channel_comparison(
    session: Session, scope: Scope, *, people: bool = False, by: str = "medium"
) -> tuple[ChannelTable, Ledger]:
    """Compares media (or campaigns, `by="campaign"`): unique contacts, interactions per
    contact, completion and cost per contact. Rows split the total's cells; unattributed
    traffic (no campaign) is its own row when no campaign filter applies."""
    data = load(session, scope, daily=False, people=people)
    led = Ledger(data)
    groups: dict[tuple[str, str], list[Campaign]] = {}
    for campaign in scope.campaigns:
        if _in_scope(scope, campaign):
            name = campaign.code if by == "campaign" else ""
            groups.setdefault((str(campaign.medium), name), []).append(campaign)
    media = [(m, n, cs, {c.id for c in cs}) for (m, n), cs in sorted(groups.items())]
    if scope.campaign_ids is None and any(cid == 0 for cid, _ch in data.sets):
        media.append((UNATTRIBUTED, "", [], {0}))
    media = [m for m in media if data.total(Metric.INTERACTIONS, cells=m[3]) or data.union(m[3])]
    rows = [
        _medium_row(scope, led, ("rows", i), medium, campaigns, cells, campaign=name or None)
        for i, (medium, name, campaigns, cells) in enumerate(media)
    ]
    every = [c for cs in groups.values() for c in cs]
    total = _medium_row(scope, led, ("total",), "total", every, None)
    table = ChannelTable(
        filter=scope_of(scope), timezone=str(scope.zone), by=by, rows=rows, total=total
    )
    return table, led


def _medium_row(
    scope: Scope,
    led: Ledger,
    at: Path,
    medium: str,
    campaigns: list[Campaign],
    cells: set[int] | None,
    *,
    campaign: str | None = None,
) -> MediumRow:
    data = led.data
    unique = led.people((*at, "unique_contacts"), data.union(cells), cells=cells)
    interactions = led.count((*at, "interactions"), Metric.INTERACTIONS, cells=cells)
    calls = _calls(led, (*at, "calls"), cells)
    completed = led.count((*at, "calls_completed"), Metric.COMPLETED, cells=cells)
    money = cost(scope, data, campaigns)
    led.divisors[(*at, "cost_per_contact")] = reach_tally(data, campaigns)
    return MediumRow(
        medium=medium,
        campaign=campaign,
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


def _keywords(led: Ledger, names: dict[int, str]) -> list[KeywordCount]:
    """Texts that matched each keyword, per campaign (the keyword as matching folds it)."""
    cells = sorted(
        {(cid, key) for (cid, _ch, metric, key) in led.data.counts if metric == Metric.KEYWORD}
    )
    return [
        KeywordCount(
            campaign=names.get(cid, ""),
            keyword=key,
            count=led.count(("keywords", i, "count"), Metric.KEYWORD, key, cells={cid}),
        )
        for i, (cid, key) in enumerate(cells)
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
