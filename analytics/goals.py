"""SMART goal progress from daily facts, with a straight-line forecast to the deadline over
the days that have data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

import pandas as pd

from analytics.roi import summarise
from core.money import exponent

# Metrics that add up over days: their forecast projects the days with data to the deadline.
ADDITIVE = {"spend", "impressions", "clicks", "conversions", "revenue"}
# People, not events: someone reached on Monday and again on Tuesday is one person, so daily
# reach neither sums to the period's reach nor projects in a straight line. Only the
# platform's reach for the whole period would do, and the facts hold daily reach only.
NOT_ADDITIVE = {"reach"}
# Amounts (or ratios of amounts): they need every fact in the goal's currency.
MONEY = {"spend", "revenue", "roas", "cpa", "cpc", "cpm"}
COUNTS = {"impressions", "clicks", "conversions"}
RATIO_FROM_ROI = {"roas": "roas", "cpa": "cpa", "cpc": "cpc", "cpm": "cpm"}
FOUR = Decimal("0.0001")


class Status:
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    ACHIEVED = "achieved"
    MISSED = "missed"
    NO_DATA = "no_data"
    NOT_ADDITIVE = "not_additive"  # reach: no period figure stored, never a sum of days
    MISSING_RATE = "missing_rate"  # money in another currency without an FX rate


# What a status without a number means, for the pages that show it.
NOTES = {
    Status.NOT_ADDITIVE: "Reach is not additive: the same person reached on two days counts "
    "once, so daily reach is never summed or projected. Only the platform's reach for the "
    "whole period would do.",
    Status.MISSING_RATE: "Part of this money is in another currency without an FX rate on or "
    "before its day: add the rate under FX rates.",
}


@dataclass(frozen=True)
class Progress:
    current: Decimal | None
    forecast: Decimal | None
    status: str


def metric_value(facts: pd.DataFrame, metric: str, currency: str) -> Decimal | None:
    """The metric over all of `facts` (already filtered to the goal's campaign/channel/period).

    Counts (and CTR, a ratio of counts) add across currencies. Money metrics count only facts
    in `currency`: a goal set in EUR never mixes in USD (refresh_goals converts the other
    currencies first, and says "missing rate" when a rate is missing). Reach has no value:
    daily reach does not add up (see NOT_ADDITIVE).
    """
    if facts.empty or metric in NOT_ADDITIVE:
        return None
    if metric in COUNTS:
        return Decimal(int(facts[metric].sum()))
    if metric == "ctr":
        impressions = int(facts["impressions"].sum())
        if impressions == 0:
            return None
        clicks = Decimal(int(facts["clicks"].sum()))
        return (clicks * 100 / impressions).quantize(FOUR, rounding=ROUND_HALF_EVEN)
    facts = facts[facts["currency"] == currency]
    if facts.empty:
        return None
    row = next(summarise(facts).itertuples(index=False))
    digits = exponent(currency)
    if metric == "spend":
        return Decimal(int(row.spend_minor)).scaleb(-digits)
    if metric == "revenue":
        return Decimal(int(row.revenue_minor)).scaleb(-digits)
    if metric in RATIO_FROM_ROI:
        return getattr(row, RATIO_FROM_ROI[metric])
    return None  # engagement rate, followers: filled by the influencer side


def _better(value: Decimal, target: Decimal, direction: str) -> bool:
    return value >= target if direction == "at_least" else value <= target


def days_with_data(start: date, deadline: date, today: date, data_through: date | None) -> int:
    """Days from `start` to the last day the data covers, never past the deadline or today.

    `data_through` is the last day with data (refresh_goals: the last day with a fact in the
    goal's scope, or later when a sync covered days without spend). Today's numbers are not
    in yet when the data stops yesterday, so today never counts on its own: dividing by the
    days elapsed *including today* understated every forecast by one day in N.
    """
    if data_through is None:
        return 0
    through = min(data_through, deadline, today)
    return max(0, (through - start).days + 1)


def progress(
    *,
    metric: str,
    direction: str,
    target: Decimal,
    start: date,
    deadline: date,
    today: date,
    current: Decimal | None,
    data_through: date | None,
) -> Progress:
    """Current value, forecast at the deadline and status of one goal.

    Additive metrics forecast current × total days / days with data (`days_with_data`);
    ratios forecast their current value; reach has neither (Status.NOT_ADDITIVE).
    """
    if metric in NOT_ADDITIVE:
        return Progress(None, None, Status.NOT_ADDITIVE)
    if current is None:
        return Progress(None, None, Status.NO_DATA)
    elapsed = days_with_data(start, deadline, today, data_through)
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
