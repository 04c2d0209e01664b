"""Database edge of the analytics package: load facts into frames, write goal progress back."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Unconverted:
    """Money of one currency that could not be converted: no rate on or before its days."""

    currency: str
    spend_minor: int
    first_day: date
    last_day: date


def in_currency(facts: pd.DataFrame, currency: str) -> tuple[pd.DataFrame, list[Unconverted]]:
    """`facts` (with a `day` column) with every amount in `currency`, and what could not be.

    Spend and revenue of other currencies are converted row by row (platform campaign × day)
    at the FX rate of that day or the nearest earlier one, kept by finance (budgets.fx);
    rows without a rate are left out of the first frame and summed per currency in the list,
    so a page can say what is missing instead of showing a number that is not whole.
    """
    from budgets import fx

    foreign = facts["currency"] != currency
    if facts.empty or not foreign.any():
        return facts, []
    rates = fx.rates_frame(set(facts["currency"]) | {currency}, facts["day"].max())
    out = facts.copy()
    missing = pd.Series(False, index=out.index)
    for column in ("spend_minor", "revenue_minor"):
        amounts = facts.loc[foreign, ["day", "currency", column]].rename(
            columns={column: "amount_minor"}
        )
        converted = fx.convert_frame(amounts, rates, currency)
        missing.loc[foreign] |= converted["fx_missing"]
        out.loc[foreign, column] = converted["converted_minor"].fillna(0).astype("int64")
    out.loc[foreign, "currency"] = currency
    gaps = [
        Unconverted(str(cur), int(part["spend_minor"].sum()), part["day"].min(), part["day"].max())
        for cur, part in facts[missing].groupby("currency", sort=True)
    ]
    return out[~missing].reset_index(drop=True), gaps


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
        converted, gaps = in_currency(cf, campaign.currency)
        if not gaps:  # every amount converts: goals count spend in every currency
            cf = converted
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
