"""Database edge of the analytics package: facts in one currency, goal progress written back.

Which facts count for a campaign, a channel and a window is `analytics.spend` (the one
definition); `facts_frame` is re-exported from there.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pandas as pd
from sqlalchemy import func, select

from ads.models import AdAccount, PlatformCampaign, Restatement
from analytics import goals as goal_math
from analytics import spend
from analytics.spend import facts_frame
from campaigns.models import Campaign, Goal
from core.extensions import db
from core.types import utcnow

INT_COLUMNS = tuple(spend.SUMMED)  # the integer sums of a facts frame


@dataclass(frozen=True)
class Unconverted:
    """Money of one currency that could not be converted: no rate on or before its days."""

    currency: str
    spend_minor: int
    first_day: date
    last_day: date


def in_currency(facts: pd.DataFrame, currency: str) -> tuple[pd.DataFrame, list[Unconverted]]:
    """`facts` (with a `day` column) with every amount in `currency`, and what could not be.

    Facts are summed to the grain of `analytics.spend` (campaign × channel × day × currency,
    whichever of those columns the frame has) and each row's spend and revenue converted by
    `spend.convert`: the budget pages convert the very same rows, so they agree to the cent.
    Rows without a rate are left out of the first frame and summed per currency in the list,
    so a page can say what is missing instead of showing a number that is not whole.
    """
    foreign = facts["currency"] != currency
    if facts.empty or not foreign.any():
        return facts, []
    keys = [k for k in (*spend.GRAIN, "in_flight") if k in facts.columns]
    sums = [c for c in INT_COLUMNS if c in facts.columns]
    grain = facts.groupby(keys, sort=True, dropna=False)[sums].sum().reset_index()
    out = grain.copy()
    missing = pd.Series(False, index=grain.index)
    for column in ("spend_minor", "revenue_minor"):
        converted = spend.convert(grain, currency, column)
        missing |= converted["fx_missing"].astype(bool)
        out[column] = converted["converted_minor"].fillna(0).astype("int64")
    out["currency"] = currency
    gaps = [
        Unconverted(str(cur), int(part["spend_minor"].sum()), part["day"].min(), part["day"].max())
        for cur, part in grain[missing].groupby("currency", sort=True)
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
    """Fill every goal's progress of these campaigns from the facts. Does not commit.

    A goal's window is its campaign's flight start to its deadline (analytics.spend), on its
    channel or all of them. Money metrics count every currency converted into the campaign's;
    when a rate is missing the goal says so ("missing rate") rather than count a part.
    """
    today = today or datetime.now(UTC).date()
    updated = 0
    ids = sorted({i for i in campaign_ids if i})
    if not ids:
        return 0
    frame = facts_frame(campaign_ids=ids)
    synced = _synced_through(ids)
    for campaign in db.session.scalars(select(Campaign).where(Campaign.id.in_(ids))):
        cf = frame[frame["campaign_id"] == campaign.id]
        for goal in campaign.goals:
            scoped = cf[(cf["day"] >= campaign.start_date) & (cf["day"] <= goal.deadline)]
            if goal.channel:
                scoped = scoped[scoped["channel"] == goal.channel]
            result = _progress(goal, campaign, scoped, synced, today)
            if result.status == goal_math.Status.NO_DATA and goal.current_value is None:
                continue
            goal.current_value = result.current
            goal.forecast_value = result.forecast
            goal.progress_status = result.status
            goal.progress_as_of = utcnow()
            updated += 1
    return updated


def _progress(
    goal: Goal,
    campaign: Campaign,
    scoped: pd.DataFrame,
    synced: dict[tuple[int, str], date],
    today: date,
) -> goal_math.Progress:
    current = None
    if goal.metric in goal_math.MONEY:
        converted, gaps = in_currency(scoped, campaign.currency)
        if gaps:
            return goal_math.Progress(None, None, goal_math.Status.MISSING_RATE)
        current = goal_math.metric_value(converted, goal.metric, campaign.currency)
    else:  # counts add across currencies: nothing to convert
        current = goal_math.metric_value(scoped, goal.metric, campaign.currency)
    through = scoped["day"].max() if not scoped.empty else None
    for (campaign_id, channel), day in synced.items():
        if campaign_id != campaign.id or (goal.channel and channel != goal.channel):
            continue
        if through is None or day > through:
            through = day
    return goal_math.progress(
        metric=goal.metric,
        direction=goal.direction,
        target=goal.target,
        start=campaign.start_date,
        deadline=goal.deadline,
        today=today,
        current=current,
        data_through=through if current is not None else None,
    )


def _synced_through(campaign_ids: list[int]) -> dict[tuple[int, str], date]:
    """The last day a sync covered, per campaign × channel (the accounts mapped to it): days
    without spend after the last fact still count as days with data."""
    stmt = (
        select(PlatformCampaign.campaign_id, AdAccount.platform, func.max(AdAccount.synced_through))
        .join(AdAccount, AdAccount.id == PlatformCampaign.account_id)
        .where(PlatformCampaign.campaign_id.in_(campaign_ids))
        .group_by(PlatformCampaign.campaign_id, AdAccount.platform)
    )
    return {(c, p): d for c, p, d in db.session.execute(stmt) if d is not None}


def mapped_campaign_ids(account_id: int) -> list[int]:
    return list(
        db.session.scalars(
            select(PlatformCampaign.campaign_id)
            .where(PlatformCampaign.account_id == account_id)
            .where(PlatformCampaign.campaign_id.is_not(None))
            .distinct()
        )
    )
