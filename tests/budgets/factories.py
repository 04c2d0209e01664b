"""Factories and helpers for budget tests (flushed into the test's session)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import factory

from ads.models import AdAccount, PlatformCampaign, SpendFact
from budgets.models import AllocationLine, Budget, FxRate
from tests.factories import Base, CampaignFactory, UserFactory

__all__ = ["BudgetFactory", "CampaignFactory", "LineFactory", "UserFactory"]


def this_quarter(today: date | None = None) -> tuple[str, date, date]:
    today = today or date.today()
    quarter = (today.month - 1) // 3 + 1
    start = date(today.year, 3 * quarter - 2, 1)
    end_month = start.replace(month=3 * quarter)
    end = (end_month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return f"{today.year}-Q{quarter}", start, end


class BudgetFactory(Base):
    class Meta:
        model = Budget

    name = factory.Sequence(lambda n: f"Budget {n}")
    period = factory.LazyFunction(lambda: this_quarter()[0])
    period_kind = "quarter"
    start_date = factory.LazyFunction(lambda: this_quarter()[1])
    end_date = factory.LazyFunction(lambda: this_quarter()[2])
    currency = "EUR"
    total_minor = 10_000_000  # 100,000.00
    owner = factory.SubFactory(UserFactory, role="finance")
    status = "open"
    under_pct = 85
    over_pct = 115


class LineFactory(Base):
    class Meta:
        model = AllocationLine

    budget = factory.SubFactory(BudgetFactory)
    campaign = factory.SubFactory(CampaignFactory)
    channel = "meta_ads"
    currency = factory.LazyAttribute(lambda o: o.budget.currency)
    planned_minor = 100_000
    status = "draft"
    note = ""
    requested_by = factory.LazyAttribute(lambda o: o.campaign.owner)


def fx_rate(day: date, base: str, quote: str, rate: str) -> FxRate:
    from core.extensions import db

    row = FxRate(
        day=day, base_currency=base, quote_currency=quote, rate=Decimal(rate), source="test"
    )
    db.session.add(row)
    db.session.flush()
    return row


def spend(campaign, days: dict[date, int], platform="meta_ads", currency=None) -> None:
    """Synced spend facts for `campaign` on `platform` (amounts in minor units)."""
    from core.extensions import db

    currency = currency or campaign.currency
    account = AdAccount(
        platform=platform, external_id=f"act_{campaign.id}_{platform}_{currency}", currency=currency
    )
    db.session.add(account)
    db.session.flush()
    pc = PlatformCampaign(
        account_id=account.id,
        external_id=f"pc{campaign.id}",
        name=campaign.name,
        campaign_id=campaign.id,
    )
    db.session.add(pc)
    db.session.flush()
    for day, minor in days.items():
        db.session.add(
            SpendFact(
                account_id=account.id,
                platform_campaign_id=pc.id,
                level="ad",
                object_id=f"ad{campaign.id}",
                day=day,
                currency=currency,
                spend_minor=minor,
            )
        )
    db.session.flush()
