"""Demo influencers: ~40 creators, partnerships in every status, deliverables due, overdue and
verified, payments in each state and attributed orders. Idempotent: runs again change nothing.

Runs after budgets seeding. Contracts are written directly (not through the guard rail), with
modest fees, so the demo does not depend on which allocations the budgets demo approved.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from campaigns.models import Campaign
from core.extensions import db
from core.models import Role
from core.money import Money
from core.types import utcnow
from influencers.models import (
    Deliverable,
    Influencer,
    InfluencerHandle,
    InfluencerRate,
    Partnership,
)
from influencers.orders import import_orders
from influencers.partnerships import unique_utm_campaign
from influencers.payments import apply_payment_plan, refresh_milestones

FIRST = [
    "Anna",
    "Ben",
    "Cara",
    "Dario",
    "Elif",
    "Finn",
    "Greta",
    "Hugo",
    "Ines",
    "Jonas",
    "Kira",
    "Luca",
    "Mila",
    "Noah",
    "Olga",
    "Pia",
]
LAST = [
    "Runs",
    "Lifts",
    "Cooks",
    "Travels",
    "Paints",
    "Plays",
    "Codes",
    "Grows",
    "Bakes",
    "Climbs",
    "Skates",
    "Sings",
]
NICHES = ["running", "fitness", "yoga", "food", "travel", "tech", "gaming", "fashion", "outdoor"]
COUNTRIES = ["DE", "FR", "GB", "ES", "IT", "NL", "SE", "US", "AT", "PL"]
PLATFORMS = ["instagram", "tiktok", "youtube", "twitch", "x"]
# (campaign, influencer index, status, fee in major units, deliverables as (days from today,
# status, platform)), chosen so every status of everything shows up.
DEALS = [
    ("Spring Running Shoes Launch", 0, "active", "2400", [(-12, "verified"), (-3, "planned")]),
    ("Spring Running Shoes Launch", 1, "active", "1800", [(-6, "verified"), (2, "approved")]),
    ("Spring Running Shoes Launch", 2, "contracted", "950", [(4, "draft_submitted")]),
    ("Spring Running Shoes Launch", 3, "completed", "3200", [(-20, "verified"), (-9, "verified")]),
    ("Spring Running Shoes Launch", 4, "negotiating", "1200", []),
    ("Spring Running Shoes Launch", 5, "prospect", "800", []),
    ("Spring Running Shoes Launch", 6, "cancelled", "600", [(-15, "planned")]),
    ("Black Friday Mega Sale", 7, "active", "5000", [(-2, "published"), (5, "planned")]),
    ("Black Friday Mega Sale", 8, "active", "2750", [(-1, "changes_requested"), (6, "planned")]),
    ("Black Friday Mega Sale", 9, "contracted", "1500", [(3, "planned")]),
    ("Black Friday Mega Sale", 10, "negotiating", "4000", []),
    ("Yoga Mat Creators Program", 11, "contracted", "900", [(8, "planned"), (12, "planned")]),
    ("Yoga Mat Creators Program", 12, "prospect", "700", []),
    ("Yoga Mat Creators Program", 13, "negotiating", "1100", []),
]
TYPES = ["reel", "post", "story", "short_video", "long_video"]
PROOF = {
    "instagram": "https://www.instagram.com/p/{}/",
    "tiktok": "https://www.tiktok.com/@{}/video/7300000000",
    "youtube": "https://www.youtube.com/watch?v={}",
    "twitch": "https://www.twitch.tv/videos/{}",
    "x": "https://x.com/{}/status/1800000000",
}


def _roster(rng: random.Random) -> list[Influencer]:
    people = []
    for n in range(40):
        # 16 first names × 12 surnames, paired so that 40 people get 40 different names.
        first = FIRST[n % len(FIRST)]
        last = LAST[(n + 5 * (n // len(FIRST))) % len(LAST)]
        name = f"{first} {last}"
        handle = name.lower().replace(" ", ".")
        found = db.session.scalar(
            select(InfluencerHandle).where(
                InfluencerHandle.platform == "instagram", InfluencerHandle.handle == handle
            )
        )
        if found is not None:
            people.append(found.influencer)
            continue
        influencer = Influencer(
            name=name,
            country=COUNTRIES[n % len(COUNTRIES)],
            language=COUNTRIES[n % len(COUNTRIES)].lower() if n % 3 else "en",
            contact_email=f"{handle}@creators.example",
            notes="Prefers reels over stories." if n % 5 == 0 else "",
            status="do_not_work_with" if n in (38, 39) else "active",
            niches_csv="",
        )
        influencer.niches = rng.sample(NICHES, 2)
        followers = rng.randrange(8_000, 900_000, 100)
        rate = Decimal(rng.randrange(80, 650)) / 100
        influencer.handles.append(
            InfluencerHandle(
                platform="instagram", handle=handle, followers=followers, engagement_rate=rate
            )
        )
        second = PLATFORMS[1 + n % (len(PLATFORMS) - 1)]
        influencer.handles.append(
            InfluencerHandle(
                platform=second,
                handle=handle.replace(".", "_"),
                followers=followers // rng.randint(2, 6),
                engagement_rate=(rate * Decimal("1.4")).quantize(Decimal("0.01")),
            )
        )
        for kind, share in (("post", 1), ("reel", 2), ("story", Decimal("0.4"))):
            amount = Money.of(Decimal(followers) / 100 * share, "EUR", strict=False)
            influencer.rates.append(
                InfluencerRate(deliverable_type=kind, currency="EUR", amount_minor=amount.minor)
            )
        db.session.add(influencer)
        people.append(influencer)
    db.session.flush()
    return people


def _deal(campaign, influencer, owner, status, fee, plan_rows, n: int) -> Partnership | None:
    exists = db.session.scalar(
        select(Partnership.id).where(
            Partnership.campaign_id == campaign.id, Partnership.influencer_id == influencer.id
        )
    )
    if exists:
        return None
    p = Partnership(
        influencer=influencer,
        campaign=campaign,
        owner_id=owner.id,
        status="prospect",
        currency=campaign.currency,
        fee_minor=Money.of(fee, campaign.currency).minor,
        payment_terms="Net 30 after invoice.",
        usage_rights="Organic reposting and paid amplification for 90 days.",
        exclusivity_days=30 if n % 2 else 0,
        start_date=campaign.start_date,
        end_date=campaign.end_date,
    )
    db.session.add(p)
    db.session.flush()
    p.utm_campaign = unique_utm_campaign(p)
    p.promo_code = f"{influencer.name.split()[0].upper()}{10 + n}"
    apply_payment_plan(p, "half_half")
    today = date.today()
    for i, (days, d_status) in enumerate(plan_rows):
        platform = influencer.handles[i % len(influencer.handles)].platform
        d = Deliverable(
            partnership=p,
            type=TYPES[(n + i) % len(TYPES)],
            platform=platform,
            due_date=today + timedelta(days=days),
            status=d_status,
            title=f"{campaign.product}: {TYPES[(n + i) % len(TYPES)].replace('_', ' ')}",
        )
        db.session.add(d)
        if d_status != "planned":
            d.content_url = f"https://drive.example.com/drafts/{p.id}-{i}"
        if d_status == "changes_requested":
            d.reviewer_comments = "Show the product in the first three seconds, please."
        if d_status in ("published", "verified"):
            handle = influencer.handle_on(platform).handle
            d.published_on = min(today, d.due_date)
            d.proof_url = PROOF[platform].format(
                handle if platform in ("tiktok", "x") else f"D{n}{i}"
            )
            views = 40_000 + 9_000 * n + 5_000 * i
            d.impressions, d.reach, d.likes = views, views * 7 // 10, views // 25
            d.comments, d.shares, d.saves, d.clicks = (
                views // 400,
                views // 300,
                views // 200,
                views // 60,
            )
        if d_status == "verified":
            d.verified_at = utcnow()
    db.session.flush()
    for d in p.deliverables:
        d.utm_content, d.utm_source, d.utm_medium = (
            f"{d.type.replace('_', '-')}-{d.id}",
            d.platform,
            "influencer",
        )
        d.landing_url = f"https://shop.example.com/{campaign.product.lower().replace(' ', '-')}"
    p.status = status
    if p.is_committed or status == "cancelled":
        p.contracted_at = utcnow()
    refresh_milestones(p)
    if status in ("active", "completed"):
        p.milestones[0].status, p.milestones[0].paid_on = "paid", campaign.start_date + timedelta(5)
        p.milestones[0].reference = f"TRX-{2000 + n}"
    if status == "completed":
        p.milestones[1].status, p.milestones[1].paid_on = "paid", today - timedelta(days=2)
        p.milestones[1].reference = f"TRX-{3000 + n}"
    return p


def _orders(rng: random.Random) -> int:
    codes = db.session.execute(
        select(Partnership.promo_code, Partnership.currency, Partnership.utm_campaign).where(
            Partnership.status.in_(("active", "completed")), Partnership.promo_code.is_not(None)
        )
    ).all()
    if not codes:
        return 0
    lines = ["order_id,date,amount,currency,promo_code,utm_campaign,utm_content"]
    today = date.today()
    for n in range(160):
        code, currency, utm = codes[n % len(codes)]
        day = today - timedelta(days=rng.randint(0, 30))
        amount = Decimal(rng.randrange(2_500, 24_000)) / 100
        by_code = n % 3 != 0
        lines.append(
            f"DEMO-{10_000 + n},{day.isoformat()},{amount},{currency},"
            f"{code if by_code else ''},{'' if by_code else utm},"
        )
    result = import_orders("\n".join(lines).encode(), filename="demo-orders.csv")
    return result.created


def seed_influencers(users) -> dict[str, int]:
    rng = random.Random(5)  # noqa: S311 - demo data, deterministic on purpose
    people = _roster(rng)
    owner = users[Role.COORDINATOR]
    created = 0
    for n, (name, index, status, fee, plan_rows) in enumerate(DEALS):
        campaign = db.session.scalar(select(Campaign).where(Campaign.name == name))
        if campaign is None:
            continue
        if _deal(campaign, people[index], owner, status, fee, plan_rows, n) is not None:
            created += 1
    db.session.flush()
    orders = _orders(rng)
    total = db.session.scalar(select(func.count()).select_from(Influencer))
    return {"influencers": total, "partnerships created": created, "orders attributed": orders}
