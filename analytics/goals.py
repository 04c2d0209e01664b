"""SMART goal progress from daily facts, with a straight-line forecast to the deadline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

import pandas as pd

from analytics.roi import summarise
from core.money import exponent

# Metrics that add up over days; the others are ratios of sums.
ADDITIVE = {"spend", "impressions", "clicks", "conversions", "revenue", "reach"}
RATIO_FROM_ROI = {"roas": "roas", "cpa": "cpa", "cpc": "cpc", "cpm": "cpm", "ctr": "ctr"}
FOUR = Decimal("0.0001")


class Status:
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    ACHIEVED = "achieved"
    MISSED = "missed"
    NO_DATA = "no_data"


@dataclass(frozen=True)
class Progress:
    current: Decimal | None
    forecast: Decimal | None
    status: str


def metric_value(facts: pd.DataFrame, metric: str, currency: str) -> Decimal | None:
    """The metric over all of `facts` (already filtered to the goal's campaign/channel/period).

    Only facts in `currency` count: a goal set in EUR ignores USD spend rather than mixing them
    (refresh_goals converts the other currencies first, when finance has every rate needed).
    """
    if facts.empty:
        return None
    facts = facts[facts["currency"] == currency]
    if facts.empty:
        return None
    row = next(summarise(facts).itertuples(index=False))
    digits = exponent(currency)
    if metric == "spend":
        return Decimal(int(row.spend_minor)).scaleb(-digits)
    if metric == "revenue":
        return Decimal(int(row.revenue_minor)).scaleb(-digits)
    if metric in ("impressions", "clicks", "conversions"):
        return Decimal(int(getattr(row, metric)))
    if metric == "reach" and "reach" in facts.columns:
        # Reach is not additive across days; the sum is an upper bound, shown as such.
        return Decimal(int(facts["reach"].sum()))
    if metric in RATIO_FROM_ROI:
        return getattr(row, RATIO_FROM_ROI[metric])
    return None  # engagement rate, followers: filled by the influencer side


def _better(value: Decimal, target: Decimal, direction: str) -> bool:
    return value >= target if direction == "at_least" else value <= target


def progress(
    *,
    metric: str,
    direction: str,
    target: Decimal,
    start: date,
    deadline: date,
    today: date,
    current: Decimal | None,
) -> Progress:
    if current is None:
        return Progress(None, None, Status.NO_DATA)
    elapsed = (min(today, deadline) - start).days + 1
    total = (deadline - start).days + 1
    if metric in ADDITIVE and elapsed > 0:
        forecast = (current * total / elapsed).quantize(FOUR, rounding=ROUND_HALF_EVEN)
    else:
        forecast = current
    over = today > deadline
    if metric in ADDITIVE and direction == "at_least" and current >= target:
        return Progress(current, forecast, Status.ACHIEVED)
    if metric in ADDITIVE and direction == "at_most" and current > target:
        return Progress(current, forecast, Status.MISSED)
    if over:
        status = Status.ACHIEVED if _better(current, target, direction) else Status.MISSED
        return Progress(current, forecast, status)
    status = Status.ON_TRACK if _better(forecast, target, direction) else Status.AT_RISK
    return Progress(current, forecast, status)
