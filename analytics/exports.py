"""The performance export: one row per platform campaign over a period."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from ads.models import AdAccount, PlatformCampaign, SpendFact
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
    "impressions",
    "clicks",
    "conversions",
    "conversion_value",
    "roas",
    "cpa",
)


class _Row:
    __slots__ = ("currency", "spend_minor", "impressions", "clicks", "conversions", "revenue_minor")

    def __init__(self, **kw: Any) -> None:
        for k, v in kw.items():
            setattr(self, k, v)


def performance_rows(since: date, until: date) -> Iterator[tuple]:
    """Aggregated in SQL (sums of integers), ratios computed once per row as Decimal."""
    stmt = (
        select(
            AdAccount.platform,
            AdAccount.external_id,
            PlatformCampaign.external_id,
            PlatformCampaign.name,
            Campaign.name,
            SpendFact.currency,
            func.sum(SpendFact.spend_minor),
            func.sum(SpendFact.impressions),
            func.sum(SpendFact.clicks),
            func.sum(SpendFact.conversions),
            func.sum(SpendFact.conversion_value_minor),
        )
        .join(PlatformCampaign, PlatformCampaign.id == SpendFact.platform_campaign_id)
        .join(AdAccount, AdAccount.id == SpendFact.account_id)
        .outerjoin(Campaign, Campaign.id == PlatformCampaign.campaign_id)
        .where(SpendFact.day >= since, SpendFact.day <= until)
        .group_by(
            AdAccount.platform,
            AdAccount.external_id,
            PlatformCampaign.external_id,
            PlatformCampaign.name,
            Campaign.name,
            SpendFact.currency,
        )
        .order_by(AdAccount.platform, AdAccount.external_id, PlatformCampaign.name)
    )
    for (
        platform,
        account,
        pc_id,
        pc_name,
        fd_name,
        cur,
        spend,
        imp,
        clk,
        conv,
        value,
    ) in db.session.execute(stmt):
        row = _Row(
            currency=cur,
            spend_minor=int(spend or 0),
            impressions=int(imp or 0),
            clicks=int(clk or 0),
            conversions=int(conv or 0),
            revenue_minor=int(value or 0),
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
        s = sums.setdefault(r[5], [Decimal(0), 0, 0, 0, Decimal(0)])
        s[0] += r[6]
        s[1] += r[7]
        s[2] += r[8]
        s[3] += r[9]
        s[4] += r[10]
    return [
        ("TOTAL", "", "", "", "", cur, s[0], s[1], s[2], s[3], s[4], None, None)
        for cur, s in sorted(sums.items())
    ]
