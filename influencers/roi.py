"""Influencer ROI as pure pandas: the ROI engine's ratio-of-sums rules plus cost per engagement.

Input frame, one row per partnership × currency (any number of rows per group):
    partnership_id, campaign_id, currency (str),
    cost_minor, revenue_minor, impressions, engagements, clicks, conversions (int64)
Amounts never sum across currencies: currency is always part of the grouping.
ROI = (attributed revenue − cost) / cost; CPM = cost × 1000 / impressions;
cost per engagement = cost / engagements — each a ratio of sums, as a Decimal (or None).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Decimal

import pandas as pd

from analytics import roi as engine
from core.money import exponent

COUNT_COLUMNS = (
    "cost_minor",
    "revenue_minor",
    "impressions",
    "engagements",
    "clicks",
    "conversions",
)
FOUR = Decimal("0.0001")


def empty(extra: Sequence[str] = ("partnership_id", "campaign_id")) -> pd.DataFrame:
    columns = {c: pd.Series(dtype="int64") for c in extra}
    columns["currency"] = pd.Series(dtype="object")
    columns.update({c: pd.Series(dtype="int64") for c in COUNT_COLUMNS})
    return pd.DataFrame(columns)


def summarise(frame: pd.DataFrame, by: Sequence[str] = ()) -> pd.DataFrame:
    """Sums per group and currency, with roi, cpm, cpe (cost per engagement), roas, cpc, cpa."""
    facts = frame.rename(columns={"cost_minor": "spend_minor"})
    out = engine.summarise(facts, by=by)
    keys = [*by, "currency"]
    if facts.empty:
        out["engagements"] = pd.Series(dtype="int64")
        out["cpe"] = pd.Series(dtype="object")
        return out.rename(columns={"spend_minor": "cost_minor"})
    engagements = facts.groupby(keys, sort=True, dropna=False)["engagements"].sum().reset_index()
    out = out.merge(engagements, on=keys, how="left")
    out["engagements"] = out["engagements"].astype("int64")
    out["cpe"] = [
        _div(Decimal(int(cost)).scaleb(-exponent(cur)), Decimal(int(eng)))
        for cost, cur, eng in zip(
            out["spend_minor"], out["currency"], out["engagements"], strict=True
        )
    ]
    return out.rename(columns={"spend_minor": "cost_minor"})


def _div(numerator: Decimal, denominator: Decimal) -> Decimal | None:
    if denominator == 0:
        return None
    return (numerator / denominator).quantize(FOUR, rounding=ROUND_HALF_EVEN)
