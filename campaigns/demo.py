"""Twelve realistic demo campaigns across every status, with SMART goals."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from campaigns.models import Campaign, Goal
from core.extensions import db
from core.models import Role, User
from core.money import Money

# name, brand, product, objective, channels, start offset days, length days, currency, budget,
# status, goals [(metric, direction, baseline, target, channel)]
CAMPAIGNS = [
    (
        "Spring Running Shoes Launch",
        "Stride",
        "AirRun 3",
        "sales",
        ["meta_ads", "influencers"],
        -40,
        70,
        "EUR",
        "48000",
        "active",
        [("roas", "at_least", "2.1", "3.5", "meta_ads"), ("cpa", "at_most", "38", "28", None)],
    ),
    (
        "Trail Series Awareness",
        "Stride",
        "TrailPro",
        "awareness",
        ["meta_ads", "tiktok_ads"],
        -25,
        60,
        "EUR",
        "30000",
        "active",
        [
            ("reach", "at_least", "0", "1500000", None),
            ("cpm", "at_most", "6.50", "4.80", "meta_ads"),
        ],
    ),
    (
        "Black Friday Mega Sale",
        "Stride",
        "All products",
        "sales",
        ["meta_ads", "google_ads", "influencers"],
        -10,
        25,
        "USD",
        "120000",
        "active",
        [("revenue", "at_least", "150000", "420000", None), ("roas", "at_least", "2.5", "4", None)],
    ),
    (
        "Newsletter Lead Gen Q4",
        "Stride",
        "Runner's Club",
        "leads",
        ["meta_ads", "linkedin_ads"],
        -30,
        90,
        "GBP",
        "15000",
        "paused",
        [("conversions", "at_least", "0", "2400", None), ("cpa", "at_most", "9", "6.25", None)],
    ),
    (
        "Yoga Mat Creators Program",
        "Lumen",
        "FlexMat",
        "engagement",
        ["influencers", "tiktok_ads"],
        5,
        45,
        "EUR",
        "22000",
        "planned",
        [("engagement_rate", "at_least", "2.8", "4.5", "influencers")],
    ),
    (
        "App Install Push — Coach+",
        "Lumen",
        "Coach+ app",
        "app_installs",
        ["meta_ads", "google_ads"],
        15,
        60,
        "USD",
        "60000",
        "planned",
        [("conversions", "at_least", "0", "25000", None), ("cpa", "at_most", "3.2", "2.4", None)],
    ),
    (
        "Holiday Gift Guide",
        "Lumen",
        "Gift sets",
        "traffic",
        ["meta_ads", "google_ads", "influencers"],
        20,
        35,
        "EUR",
        "35000",
        "draft",
        [("clicks", "at_least", "0", "180000", None)],
    ),
    (
        "Winter Jackets Retargeting",
        "Nordwind",
        "Polar Parka",
        "sales",
        ["meta_ads"],
        30,
        75,
        "SEK",
        "450000",
        "draft",
        [],
    ),
    (
        "B2B Webinar Series",
        "Nordwind",
        "Fleet Outfitting",
        "leads",
        ["linkedin_ads"],
        40,
        50,
        "GBP",
        "12000",
        "draft",
        [("conversions", "at_least", "0", "600", "linkedin_ads")],
    ),
    (
        "Summer Sandals Clearance",
        "Stride",
        "BeachStep",
        "sales",
        ["meta_ads", "google_ads"],
        -150,
        60,
        "EUR",
        "18000",
        "completed",
        [("roas", "at_least", "1.8", "3", None)],
    ),
    (
        "Back to School Bundles",
        "Lumen",
        "Kids packs",
        "traffic",
        ["meta_ads", "tiktok_ads"],
        -110,
        45,
        "USD",
        "26000",
        "completed",
        [("ctr", "at_least", "0.9", "1.4", None)],
    ),
    (
        "Tokyo Pop-up Store",
        "Stride",
        "AirRun 3",
        "awareness",
        ["meta_ads", "other"],
        -300,
        30,
        "JPY",
        "3500000",
        "archived",
        [("impressions", "at_least", "0", "4000000", None)],
    ),
]


def seed_campaigns(users: dict[Role, User]) -> dict[str, int]:
    marketer, admin = users[Role.MARKETER], users[Role.ADMIN]
    today = date.today()
    created = 0
    for i, row in enumerate(CAMPAIGNS):
        name, brand, product, objective, channels, offset, length, cur, budget, status, goals = row
        if db.session.scalar(select(Campaign.id).where(Campaign.name == name)):
            continue
        start = today + timedelta(days=offset)
        campaign = Campaign(
            name=name,
            brand=brand,
            product=product,
            objective=objective,
            description=f"{brand} — {product}: {objective.replace('_', ' ')} campaign.",
            owner_id=(marketer if i % 4 else admin).id,
            start_date=start,
            end_date=start + timedelta(days=length),
            status=status,
            channels_csv="",
        )
        campaign.channels = channels
        campaign.planned_budget = Money.of(budget, cur)
        for metric, direction, baseline, target, channel in goals:
            campaign.goals.append(
                Goal(
                    metric=metric,
                    direction=direction,
                    baseline=Decimal(baseline),
                    target=Decimal(target),
                    channel=channel,
                    deadline=campaign.end_date,
                    owner_id=marketer.id,
                )
            )
        db.session.add(campaign)
        created += 1
    db.session.flush()
    return {"campaigns created": created}
