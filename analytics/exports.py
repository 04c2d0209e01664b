"""The performance export: one row per platform campaign over a period."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pandas as pd
from sqlalchemy import select

from ads.models import AdAccount, PlatformCampaign
from analytics import spend
from analytics.roi import ratios_for
from campaigns.models import Campaign
from core.extensions import db
from core.money import Money

HEADER = (
    "platform",
    "account_id",
    "platform_campaign_id",
    "platform_campaign_name",
    "flightdeck_campaign",
    "currency",
    "spend",
    "spend_outside_flight",
    "impressions",
    "clicks",
    "conversions",
    "conversion_value",
    "roas",
    "cpa",
)
SUMS = ["spend_minor", "impressions", "clicks", "conversions", "revenue_minor"]


class _Row:
    __slots__ = ("currency", "spend_minor", "impressions", "clicks", "conversions", "revenue_minor")

    def __init__(self, **kw: Any) -> None:
        for k, v in kw.items():
            setattr(self, k, v)


def _labels(pc_ids: list[int]) -> dict[int, tuple]:
    """platform, account external id, platform campaign id and name, Flightdeck campaign."""
    labels: dict[int, tuple] = {}
    for start in range(0, len(pc_ids), 1000):
        stmt = (
            select(
                PlatformCampaign.id,
                AdAccount.platform,
                AdAccount.external_id,
                PlatformCampaign.external_id,
                PlatformCampaign.name,
                Campaign.name,
            )
            .join(AdAccount, AdAccount.id == PlatformCampaign.account_id)
            .outerjoin(Campaign, Campaign.id == PlatformCampaign.campaign_id)
            .where(PlatformCampaign.id.in_(pc_ids[start : start + 1000]))
        )
        labels.update({row[0]: tuple(row[1:]) for row in db.session.execute(stmt)})
    return labels


def performance_rows(since: date, until: date) -> Iterator[tuple]:
    """One row per platform campaign × currency over the window: the facts of
    `analytics.spend.facts_frame` (summed in SQL, split by the mapped campaign's flight),
    ratios computed once per row as Decimal. `spend_outside_flight` is the part of `spend`
    dated outside the Flightdeck campaign's flight (empty for an unmapped campaign)."""
    facts = spend.facts_frame(since=since, until=until, by_day=False, flight=True)
    if facts.empty:
        return
    facts["outside_minor"] = facts["spend_minor"].where(~facts["in_flight"], 0)
    keys = ["platform_campaign_id", "currency"]
    agg = {c: (c, "sum") for c in [*SUMS, "outside_minor"]}
    agg["campaign_id"] = ("campaign_id", "first")
    sums = facts.groupby(keys, sort=False).agg(**agg).reset_index()
    labels = _labels(sorted({int(i) for i in sums["platform_campaign_id"]}))
    rows = [
        (labels[int(v.platform_campaign_id)], v, not pd.isna(v.campaign_id))
        for v in sums.itertuples(index=False)
    ]
    rows.sort(key=lambda r: (r[0][0], r[0][1], r[0][3], r[0][2], r[1].currency))
    for (platform, account, pc_id, pc_name, fd_name), v, is_mapped in rows:
        cur = v.currency
        row = _Row(
            currency=cur,
            spend_minor=int(v.spend_minor),
            impressions=int(v.impressions),
            clicks=int(v.clicks),
            conversions=int(v.conversions),
            revenue_minor=int(v.revenue_minor),
        )
        ratios = ratios_for(row)
        yield (
            platform,
            account,
            pc_id,
            pc_name,
            fd_name or "",
            cur,
            Money(row.spend_minor, cur).amount,
            Money(int(v.outside_minor), cur).amount if is_mapped else None,
            row.impressions,
            row.clicks,
            row.conversions,
            Money(row.revenue_minor, cur).amount,
            ratios["roas"],
            ratios["cpa"],
        )


def totals_by_currency(rows: list[tuple]) -> list[tuple]:
    """Totals never mix currencies: one totals line per currency."""
    sums: dict[str, list[Decimal | int]] = {}
    for r in rows:
        s = sums.setdefault(r[5], [Decimal(0), Decimal(0), 0, 0, 0, Decimal(0)])
        s[0] += r[6]
        s[1] += r[7] or 0
        s[2] += r[8]
        s[3] += r[9]
        s[4] += r[10]
        s[5] += r[11]
    return [
        ("TOTAL", "", "", "", "", cur, s[0], s[1], s[2], s[3], s[4], s[5], None, None)
        for cur, s in sorted(sums.items())
    ]
