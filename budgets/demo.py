"""Demo budgets for `make run`: this quarter in EUR, USD and GBP with FX rates, approved and pending
allocations, a pending reallocation, synced spend that puts lines in every pacing state, and
last quarter closed with its lines and rates locked. Idempotent: a second run adds nothing.

Runs before the influencer demo, so several campaigns have approved "influencers" lines for
influencer contracts to fit into.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from ads.models import AdAccount, PlatformCampaign, SpendFact
from budgets.models import (
    AllocationLine,
    Budget,
    BudgetStatus,
    FxRate,
    Notification,
    Reallocation,
)
from budgets.periods import Period, parse_period
from campaigns.models import Campaign
from core.audit import audit_comment
from core.extensions import db
from core.models import Role, User
from core.money import Money
from core.types import utcnow

# name, currency, total, [(campaign, channel, amount, status, pace)]; pace = spend per day as a
# share of the line's even daily plan (None: no synced spend for it).
# The designed states sit on campaign × channel pairs the ads demo (a sandbox Meta sync of EUR
# campaigns) never books spend on: TikTok, Google, USD and GBP campaigns. Where synced spend
# already exists, no demo spend is added (it would count twice) and that line paces on it.
THIS_QUARTER = [
    ("Paid & creators EMEA", "EUR", "120000", [
        ("Spring Running Shoes Launch", "meta_ads", "30000", "approved", 1.0),
        ("Spring Running Shoes Launch", "influencers", "15000", "approved", None),
        ("Trail Series Awareness", "meta_ads", "12000", "approved", 1.05),
        ("Trail Series Awareness", "tiktok_ads", "10000", "approved", 1.45),  # over-pacing
        ("Yoga Mat Creators Program", "influencers", "14000", "approved", None),
        ("Yoga Mat Creators Program", "tiktok_ads", "6000", "submitted", None),
        ("Holiday Gift Guide", "influencers", "8000", "approved", None),
        ("Holiday Gift Guide", "meta_ads", "12000", "draft", None),
    ]),
    ("North America performance", "USD", "200000", [
        ("Black Friday Mega Sale", "meta_ads", "50000", "approved", 3.2),  # overspent
        ("Black Friday Mega Sale", "google_ads", "40000", "approved", 1.0),  # on track
        ("Black Friday Mega Sale", "influencers", "20000", "approved", None),
        ("App Install Push — Coach+", "meta_ads", "30000", "submitted", None),
    ]),
    ("UK lead generation", "GBP", "15000", [
        # The campaign is paused: its LinkedIn line under-paces.
        ("Newsletter Lead Gen Q4", "linkedin_ads", "9000", "approved", 0.35),
        ("Newsletter Lead Gen Q4", "meta_ads", "4000", "submitted", None),
    ]),
]  # fmt: skip
LAST_QUARTER = ("Paid EMEA", "EUR", "40000", [
    ("Summer Sandals Clearance", "meta_ads", "12000", "locked", 0.95),
    ("Summer Sandals Clearance", "google_ads", "6000", "locked", 1.1),
])  # fmt: skip
# Part of Trail Series' TikTok spend is billed to a USD account: converted at the day's rate.
USD_BILLED = {("Trail Series Awareness", "tiktok_ads")}
RATES = {("USD", "EUR"): Decimal("0.9200"), ("GBP", "EUR"): Decimal("1.1650")}


def quarter_of(day: date) -> Period:
    return parse_period(f"{day.year}-Q{(day.month - 1) // 3 + 1}")


def seed_budgets(users: dict[Role, User]) -> dict[str, int]:
    finance, marketer = users[Role.FINANCE], users[Role.MARKETER]
    today = date.today()
    current = quarter_of(today)
    previous = quarter_of(current.start - timedelta(days=1))
    summary = {"fx rates": _seed_rates(previous.start, today)}
    made = lines = 0
    with audit_comment("Demo data"):
        for name, currency, total, specs in THIS_QUARTER:
            budget, created = _budget(f"{current.label} {name}", current, currency, total, finance)
            if created:
                made += 1
                lines += _lines(budget, specs, finance, today)
        name, currency, total, specs = LAST_QUARTER
        budget, created = _budget(f"{previous.label} {name}", previous, currency, total, finance)
        if created:
            made += 1
            lines += _lines(budget, specs, finance, today)
            budget.status, budget.closed_at, budget.closed_by_id = "closed", utcnow(), finance.id
        if made:
            _pending_reallocation(marketer, finance)
        db.session.flush()
    summary.update({"budgets created": made, "allocation lines": lines})
    return summary


def _seed_rates(start: date, end: date) -> int:
    existing = set(
        db.session.execute(select(FxRate.day, FxRate.base_currency, FxRate.quote_currency))
    )
    rng, added, day = random.Random(4217), 0, start - timedelta(days=7)
    levels = dict(RATES)
    while day <= end:
        for (base, quote), level in levels.items():
            # A small deterministic random walk, 4 decimals like a reference rate.
            level = (level * Decimal(1 + rng.uniform(-0.003, 0.003))).quantize(Decimal("0.0001"))
            levels[(base, quote)] = level
            if day.weekday() < 5 and (day, base, quote) not in existing:
                db.session.add(
                    FxRate(
                        day=day,
                        base_currency=base,
                        quote_currency=quote,
                        rate=level,
                        source="ECB reference (demo)",
                    )
                )
                added += 1
        day += timedelta(days=1)
    db.session.flush()
    return added


def _budget(
    name: str, period: Period, currency: str, total: str, owner: User
) -> tuple[Budget, bool]:
    found = db.session.scalar(select(Budget).where(Budget.name == name))
    if found is not None:
        return found, False
    budget = Budget(
        name=name,
        period=period.label,
        period_kind=period.kind.value,
        start_date=period.start,
        end_date=period.end,
        currency=currency,
        owner_id=owner.id,
        status=BudgetStatus.OPEN.value,
    )
    budget.total = Money.of(total, currency)
    db.session.add(budget)
    db.session.flush()
    return budget, True


def _lines(budget: Budget, specs, finance: User, today: date) -> int:
    count = 0
    for campaign_name, channel, amount, status, pace in specs:
        campaign = db.session.scalar(select(Campaign).where(Campaign.name == campaign_name))
        if campaign is None or campaign.currency != budget.currency:
            continue
        if campaign.end_date < budget.start_date or campaign.start_date > budget.end_date:
            continue
        line = AllocationLine(
            budget_id=budget.id,
            campaign=campaign,
            channel=channel,
            currency=budget.currency,
            status=status,
            note="",
            requested_by_id=campaign.owner_id,
            submitted_at=utcnow(),
        )
        line.planned = Money.of(amount, budget.currency)
        if status in ("approved", "locked"):
            line.decided_by_id, line.decided_at = finance.id, utcnow()
            line.decision_comment = "Within the quarter's plan."
            _notify(
                campaign.owner_id,
                f"Approved: {line.planned} for “{campaign.name}” × {line.channel_label}.",
                budget.id,
            )
        elif status == "submitted":
            _notify(
                finance.id,
                f"{campaign.owner.name} asks for {line.planned} for "
                f"“{campaign.name}” × {line.channel_label}.",
                budget.id,
            )
        db.session.add(line)
        count += 1
        if pace is not None:
            _spend(campaign, channel, line.planned_minor, pace, budget, today)
    db.session.flush()
    return count


def _spend(
    campaign: Campaign, channel: str, planned: int, pace: float, budget: Budget, today: date
) -> None:
    """Daily synced spend from the flight start (inside the period) up to yesterday."""
    start = max(campaign.start_date, budget.start_date)
    end = min(campaign.end_date, budget.end_date, today - timedelta(days=1))
    days = (min(campaign.end_date, budget.end_date) - start).days + 1
    if end < start or days <= 0:
        return
    if _synced(campaign, channel, start, end):
        return
    rng = random.Random(f"{campaign.id}-{channel}")
    # Results ride on a generator of their own, so the spend (and so the pacing) stays put.
    results = random.Random(f"{campaign.id}-{channel}-results")
    roas = results.uniform(1.8, 4.6)
    cpa_minor = results.uniform(1_800, 4_500)
    daily = planned * pace / days
    usd = (campaign.name, channel) in USD_BILLED
    account, pc = _demo_account(campaign, channel, campaign.currency)
    usd_account = _demo_account(campaign, channel, "USD") if usd else None
    day = start
    while day <= end:
        minor = int(daily * rng.uniform(0.85, 1.15))
        if usd_account and day.day % 3 == 0:
            # about a third of the days are billed in USD (amount in USD minor units)
            acc, target = usd_account
            minor = int(minor / float(RATES[("USD", "EUR")]))
        else:
            acc, target = account, pc
        db.session.add(
            SpendFact(
                account_id=acc.id,
                platform_campaign_id=target.id,
                level="ad",
                object_id=f"demo-{target.id}",
                day=day,
                currency=acc.currency,
                spend_minor=minor,
                impressions=minor * 3,
                clicks=minor // 40,
                purchases=int(minor / cpa_minor),
                conversions=int(minor / cpa_minor),
                conversion_value_minor=int(minor * roas * results.uniform(0.8, 1.2)),
            )
        )
        day += timedelta(days=1)


def _synced(campaign: Campaign, channel: str, start: date, end: date) -> bool:
    """Spend already synced (by the ads demo) for this campaign × channel in the window."""
    return (
        db.session.scalar(
            select(SpendFact.id)
            .join(PlatformCampaign, PlatformCampaign.id == SpendFact.platform_campaign_id)
            .join(AdAccount, AdAccount.id == SpendFact.account_id)
            .where(
                PlatformCampaign.campaign_id == campaign.id,
                AdAccount.platform == channel,
                AdAccount.external_id.not_like("demo-budgets-%"),
                SpendFact.day.between(start, end),
            )
            .limit(1)
        )
        is not None
    )


def _demo_account(campaign: Campaign, platform: str, currency: str):
    external = f"demo-budgets-{platform}-{currency}".lower()
    account = db.session.scalar(
        select(AdAccount).where(AdAccount.platform == platform, AdAccount.external_id == external)
    )
    if account is None:
        account = AdAccount(
            platform=platform,
            external_id=external,
            currency=currency,
            name=f"Demo {platform.replace('_', ' ')} ({currency})",
        )
        db.session.add(account)
        db.session.flush()
    pc_external = f"fd-{campaign.id}"
    pc = db.session.scalar(
        select(PlatformCampaign).where(
            PlatformCampaign.account_id == account.id, PlatformCampaign.external_id == pc_external
        )
    )
    if pc is None:
        pc = PlatformCampaign(
            account_id=account.id,
            external_id=pc_external,
            name=f"{campaign.name} [FD-{campaign.id}]",
            campaign_id=campaign.id,
            mapping_source="tag",
        )
        db.session.add(pc)
        db.session.flush()
    return account, pc


def _notify(user_id: int, message: str, budget_id: int) -> None:
    db.session.add(
        Notification(user_id=user_id, message=message[:300], url=f"/budgets/{budget_id}")
    )


def _pending_reallocation(marketer: User, finance: User) -> None:
    lines = db.session.scalars(
        select(AllocationLine)
        .join(Campaign)
        .where(Campaign.name == "Black Friday Mega Sale", AllocationLine.status == "approved")
    )
    by_channel = {line.channel: line for line in lines}
    source, target = by_channel.get("google_ads"), by_channel.get("meta_ads")
    if source is None or target is None:
        return
    move = Reallocation(
        budget_id=source.budget_id,
        from_line_id=source.id,
        to_line_id=target.id,
        currency=source.currency,
        reason="Meta ROAS 4.1× vs Google 2.3× since launch; shift before Cyber Monday.",
        requested_by_id=marketer.id,
    )
    move.amount = Money.of("5000", source.currency)
    db.session.add(move)
    _notify(
        finance.id,
        f"{marketer.name} asks to move {move.amount} from Google Ads to Meta "
        "Ads in “North America performance”.",
        source.budget_id,
    )
