"""Database edge of the analytics package: load facts into frames, write goal progress back."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime

import pandas as pd
from sqlalchemy import func, select

from ads.models import AdAccount, PlatformCampaign, Restatement, SpendFact
from analytics import goals as goal_math
from campaigns.models import Campaign
from core.extensions import db
from core.types import utcnow

FACT_COLUMNS = [
    "day",
    "campaign_id",
    "platform_campaign_id",
    "channel",
    "account_id",
    "currency",
    "spend_minor",
    "impressions",
    "clicks",
    "reach",
    "conversions",
    "revenue_minor",
]
_SUMMED = (  # spend_facts columns, in the order of FACT_COLUMNS' sums
    "spend_minor",
    "impressions",
    "clicks",
    "reach",
    "conversions",
    "conversion_value_minor",
)
INT_COLUMNS = ("spend_minor", "impressions", "clicks", "reach", "conversions", "revenue_minor")


def facts_frame(
    *,
    campaign_ids: Iterable[int] | None = None,
    since: date | None = None,
    until: date | None = None,
    by_day: bool = True,
) -> pd.DataFrame:
    """Daily facts per platform campaign joined to their mapping; channel = account platform.

    Ad-level rows are summed to the platform-campaign × day grain (or the whole period when
    `by_day` is false) in SQL (integer sums are exact there), before the join to the mapping
    and the account: the join then touches one row per group, not one per fact. Every ratio
    is left to the pandas engine.
    """
    keys = (
        *((SpendFact.day,) if by_day else ()),
        SpendFact.platform_campaign_id,
        SpendFact.account_id,
        SpendFact.currency,
    )
    inner = select(
        *keys,
        *(func.sum(getattr(SpendFact, name)).label(name) for name in _SUMMED),
    ).group_by(*keys)
    if campaign_ids is not None:
        mapped = select(PlatformCampaign.id).where(
            PlatformCampaign.campaign_id.in_(list(campaign_ids))
        )
        inner = inner.where(SpendFact.platform_campaign_id.in_(mapped))
    if since:
        inner = inner.where(SpendFact.day >= since)
    if until:
        inner = inner.where(SpendFact.day <= until)
    sums = inner.subquery()
    stmt = (
        select(
            *((sums.c.day,) if by_day else ()),
            PlatformCampaign.campaign_id,
            sums.c.platform_campaign_id,
            AdAccount.platform,
            sums.c.account_id,
            sums.c.currency,
            *(sums.c[name] for name in _SUMMED),
        )
        .join_from(sums, PlatformCampaign, PlatformCampaign.id == sums.c.platform_campaign_id)
        .join(AdAccount, AdAccount.id == sums.c.account_id)
    )
    columns = FACT_COLUMNS if by_day else FACT_COLUMNS[1:]
    frame = pd.DataFrame.from_records(list(db.session.execute(stmt)), columns=columns)
    for column in INT_COLUMNS:
        frame[column] = frame[column].fillna(0).astype("int64")
    return frame


def restatements_for(campaign_id: int, limit: int = 50) -> list[Restatement]:
    return list(
        db.session.scalars(
            select(Restatement)
            .join(PlatformCampaign, PlatformCampaign.id == Restatement.platform_campaign_id)
            .where(PlatformCampaign.campaign_id == campaign_id)
            .order_by(Restatement.detected_at.desc(), Restatement.day.desc())
            .limit(limit)
        )
    )


def refresh_goals(campaign_ids: Iterable[int], today: date | None = None) -> int:
    """Fill every goal's progress of these campaigns from the facts. Does not commit."""
    today = today or datetime.now(UTC).date()
    updated = 0
    ids = sorted({i for i in campaign_ids if i})
    if not ids:
        return 0
    frame = facts_frame(campaign_ids=ids)
    for campaign in db.session.scalars(select(Campaign).where(Campaign.id.in_(ids))):
        cf = frame[frame["campaign_id"] == campaign.id]
        for goal in campaign.goals:
            scoped = cf[(cf["day"] >= campaign.start_date) & (cf["day"] <= goal.deadline)]
            if goal.channel:
                scoped = scoped[scoped["channel"] == goal.channel]
            current = goal_math.metric_value(scoped, goal.metric, campaign.currency)
            result = goal_math.progress(
                metric=goal.metric,
                direction=goal.direction,
                target=goal.target,
                start=campaign.start_date,
                deadline=goal.deadline,
                today=today,
                current=current,
            )
            if current is None and goal.current_value is None:
                continue
            goal.current_value = result.current
            goal.forecast_value = result.forecast
            goal.progress_status = result.status
            goal.progress_as_of = utcnow()
            updated += 1
    return updated


def mapped_campaign_ids(account_id: int) -> list[int]:
    return list(
        db.session.scalars(
            select(PlatformCampaign.campaign_id)
            .where(PlatformCampaign.account_id == account_id)
            .where(PlatformCampaign.campaign_id.is_not(None))
            .distinct()
        )
    )
