"""Names of the counts kept in rollup_counts."""

from __future__ import annotations

from enum import StrEnum


class Metric(StrEnum):
    INTERACTIONS = "interactions"  # every logged message or call; key ""
    KIND = "kind"  # interactions by InteractionKind; key = kind
    GATEWAY = "gateway"  # interactions by what carried them (twilio, kannel, http); key = gateway
    CALLS = "calls"  # voice calls (call records); key ""
    COMPLETED = "calls_completed"  # calls that ended normally (not hung up mid-menu, not error)
    CALL_SECONDS = "call_seconds"  # summed duration of calls with a known duration
    DURATION = "duration"  # histogram: key = bin's first second, value = calls
    TRANSFERS = "transfers"
    TOPIC = "topic"  # key = topic chosen
    KEYWORD = "keyword"  # texts that matched a campaign keyword; key = the keyword, folded
    NODE_REACHED = "node_reached"  # key = node id (funnel)
    NODE_HUNG_UP = "node_hung_up"
    NODE_NO_INPUT = "node_no_input"
    NODE_INVALID = "node_invalid"
    NODE_WENT_ON = "node_went_on"
    OPT_INS = "opt_ins"
    DELIVERED = "followups_delivered"
    OPT_OUTS = "opt_outs"


# Durations are binned (0-4 s, 5-9 s, ...) so the histogram stays small; the median is
# reported as the middle of its bin (within 2 s), the mean is exact.
DURATION_BIN = 5

FUNNEL_STEPS = {
    "reached": Metric.NODE_REACHED,
    "hung_up": Metric.NODE_HUNG_UP,
    "no_input": Metric.NODE_NO_INPUT,
    "invalid": Metric.NODE_INVALID,
    "went_on": Metric.NODE_WENT_ON,
}
