"""The fixed catalogue of goal metrics (the S of SMART)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from core.money import Money


class Kind(StrEnum):
    COUNT = "count"  # whole numbers
    MONEY = "money"  # in the campaign currency
    PERCENT = "percent"  # 0–100
    RATIO = "ratio"  # e.g. ROAS 3.5×


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    kind: Kind
    usual_direction: str  # the direction that normally means "better"
    help: str

    def format(self, value: Decimal | None, currency: str = "") -> str:
        if value is None:
            return "—"
        if self.kind is Kind.COUNT:
            return f"{value:,.0f}"
        if self.kind is Kind.MONEY:
            if not currency:
                return f"{value:,.2f}"
            # The currency's own symbol and minor unit: ¥1,234 and €27.99, never "1,234.00 JPY".
            return Money.of(value, currency, strict=False).format()
        if self.kind is Kind.PERCENT:
            return f"{value:.2f}%"
        return f"{value:.2f}×"


_M = Metric
METRICS: dict[str, Metric] = {
    m.key: m
    for m in (
        _M("spend", "Spend", Kind.MONEY, "at_most", "Money spent on the channel"),
        _M("impressions", "Impressions", Kind.COUNT, "at_least", "Times an ad was shown"),
        _M("reach", "Reach", Kind.COUNT, "at_least", "People who saw it at least once"),
        _M("clicks", "Clicks", Kind.COUNT, "at_least", "Clicks on the ad or link"),
        _M("ctr", "CTR", Kind.PERCENT, "at_least", "Clicks ÷ impressions × 100"),
        _M("conversions", "Conversions", Kind.COUNT, "at_least", "Purchases, leads or installs"),
        _M("revenue", "Conversion value (revenue)", Kind.MONEY, "at_least", "Attributed revenue"),
        _M("roas", "ROAS", Kind.RATIO, "at_least", "Revenue ÷ spend"),
        _M("cpa", "CPA", Kind.MONEY, "at_most", "Spend ÷ conversions"),
        _M("cpc", "CPC", Kind.MONEY, "at_most", "Spend ÷ clicks"),
        _M("cpm", "CPM", Kind.MONEY, "at_most", "Spend per 1,000 impressions"),
        _M("engagement_rate", "Engagement rate", Kind.PERCENT, "at_least", "Engagements ÷ reach"),
        _M("followers_gained", "Followers gained", Kind.COUNT, "at_least", "New followers"),
    )
}

METRIC_CHOICES = {m.key: m.label for m in METRICS.values()}
