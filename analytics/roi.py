"""The ROI engine: sums in int64 minor units, ratios of sums computed once as Decimal.

Input frame (one row per fact), columns:
    currency (str), spend_minor, impressions, clicks, conversions, revenue_minor (int64)
plus any grouping columns (campaign_id, channel, day, platform_campaign_id, ...).

Ratios over a period are ratios of sums, never means of daily ratios; amounts never sum across
currencies (currency is always part of the grouping).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

import pandas as pd

from core.money import Money, exponent

SUM_COLUMNS = ("spend_minor", "impressions", "clicks", "conversions", "revenue_minor")
RATIO_COLUMNS = ("roas", "roi", "cpa", "cpc", "cpm", "ctr")
FOUR = Decimal("0.0001")


def empty_facts(extra: Sequence[str] = ()) -> pd.DataFrame:
    columns = {c: pd.Series(dtype="object") for c in extra}
    columns["currency"] = pd.Series(dtype="object")
    columns.update({c: pd.Series(dtype="int64") for c in SUM_COLUMNS})
    return pd.DataFrame(columns)


def summarise(facts: pd.DataFrame, by: Sequence[str] = ()) -> pd.DataFrame:
    """Sum the additive columns per group (always per currency) and add the ratio columns.

    Ratio columns hold `Decimal` (or None where the denominator is zero): money ratios
    (cpa, cpc, cpm) in major units of the row's currency, others as plain numbers
    (roas 3.5 = 350 %, roi 2.5 = +250 %, ctr in percent).
    """
    keys = [*by, "currency"]
    if facts.empty:
        out = pd.DataFrame({k: pd.Series(dtype="object") for k in keys})
        for c in SUM_COLUMNS:
            out[c] = pd.Series(dtype="int64")
        for c in RATIO_COLUMNS:
            out[c] = pd.Series(dtype="object")
        return out
    sums = facts.groupby(keys, sort=True, dropna=False)[list(SUM_COLUMNS)].sum().reset_index()
    for column in SUM_COLUMNS:
        sums[column] = sums[column].astype("int64")
    ratios = [ratios_for(row) for row in sums.itertuples(index=False)]
    for name in RATIO_COLUMNS:
        sums[name] = [r[name] for r in ratios]
    return sums


def _div(numerator: Decimal, denominator: Decimal) -> Decimal | None:
    if denominator == 0:
        return None
    return (numerator / denominator).quantize(FOUR, rounding=ROUND_HALF_EVEN)


def ratios_for(row) -> dict[str, Decimal | None]:
    """Ratios of one summed row (an object with the SUM_COLUMNS attributes and currency)."""
    digits = exponent(row.currency)
    spend = Decimal(int(row.spend_minor)).scaleb(-digits)
    revenue = Decimal(int(row.revenue_minor)).scaleb(-digits)
    impressions = Decimal(int(row.impressions))
    clicks = Decimal(int(row.clicks))
    conversions = Decimal(int(row.conversions))
    ctr = _div(clicks * 100, impressions)
    return {
        "roas": _div(revenue, spend),
        "roi": _div(revenue - spend, spend),
        "cpa": _div(spend, conversions),
        "cpc": _div(spend, clicks),
        "cpm": _div(spend * 1000, impressions),
        "ctr": ctr,
    }


@dataclass(frozen=True)
class Kpis:
    """The tiles of a performance page, for one currency."""

    currency: str
    spend: Money
    revenue: Money
    impressions: int
    clicks: int
    conversions: int
    roas: Decimal | None
    roi: Decimal | None
    cpa: Decimal | None
    cpc: Decimal | None
    cpm: Decimal | None
    ctr: Decimal | None

    def money(self, value: Decimal | None) -> Money | None:
        if value is None:
            return None
        return Money.of(value, self.currency, strict=False)


def kpis(facts: pd.DataFrame) -> list[Kpis]:
    """One Kpis per currency present in `facts`."""
    result = []
    for row in summarise(facts).itertuples(index=False):
        result.append(
            Kpis(
                currency=row.currency,
                spend=Money(int(row.spend_minor), row.currency),
                revenue=Money(int(row.revenue_minor), row.currency),
                impressions=int(row.impressions),
                clicks=int(row.clicks),
                conversions=int(row.conversions),
                roas=row.roas,
                roi=row.roi,
                cpa=row.cpa,
                cpc=row.cpc,
                cpm=row.cpm,
                ctr=row.ctr,
            )
        )
    return result


def daily(facts: pd.DataFrame, by: Sequence[str] = ()) -> pd.DataFrame:
    """Per-day sums (and ratios) for charts; `day` must be a column of `facts`."""
    return summarise(facts, by=[*by, "day"])
