"""Database edge of pacing and exports: planned lines, phases and actuals as frames.

Actuals are `analytics.spend.campaign_spend` over the budget period (ad spend and influencer
costs, each row tagged in or outside the campaign's flight), converted by `spend.convert`
into each line's (its campaign's, so its budget's) currency; a missing rate stays <NA>.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import pandas as pd
from sqlalchemy import select

from analytics import spend
from budgets import pacing
from budgets.models import PLANNED, AllocationLine, AllocationPhase, Budget
from campaigns.models import Campaign
from core.extensions import db

LINE_COLUMNS = [
    "line_id", "budget_id", "campaign_id", "campaign", "channel", "currency", "planned_minor",
    "status", "window_start", "window_end", "budget_start", "budget_end", "under_pct",
    "over_pct",
]  # fmt: skip


def _tuples(stmt) -> list[tuple]:
    # Plain tuples: pandas probes Row objects attribute by attribute, which is slow.
    return [tuple(row) for row in db.session.execute(stmt)]


def lines_frame(budget_ids: Sequence[int]) -> pd.DataFrame:
    """Approved and locked lines of these budgets: the plan."""
    stmt = (
        select(
            AllocationLine.id,
            AllocationLine.budget_id,
            AllocationLine.campaign_id,
            Campaign.name,
            AllocationLine.channel,
            AllocationLine.currency,
            AllocationLine.planned_minor,
            AllocationLine.status,
            Campaign.start_date,
            Campaign.end_date,
            Budget.start_date,
            Budget.end_date,
            Budget.under_pct,
            Budget.over_pct,
        )
        .join(Campaign, Campaign.id == AllocationLine.campaign_id)
        .join(Budget, Budget.id == AllocationLine.budget_id)
        .where(AllocationLine.budget_id.in_(list(budget_ids)), AllocationLine.status.in_(PLANNED))
        .order_by(AllocationLine.budget_id, Campaign.name, AllocationLine.channel)
    )
    frame = pd.DataFrame.from_records(_tuples(stmt), columns=LINE_COLUMNS)
    if not frame.empty:
        # The flight inside the period; a flight wholly outside falls back to the period.
        frame["window_start"] = frame[["window_start", "budget_start"]].max(axis=1)
        frame["window_end"] = frame[["window_end", "budget_end"]].min(axis=1)
        bad = frame["window_end"] < frame["window_start"]
        frame.loc[bad, "window_start"] = frame.loc[bad, "budget_start"]
        frame.loc[bad, "window_end"] = frame.loc[bad, "budget_end"]
    return frame.astype({"planned_minor": "int64"})


def phases_frame(budget_ids: Sequence[int]) -> pd.DataFrame:
    stmt = (
        select(AllocationPhase.line_id, AllocationPhase.month, AllocationPhase.planned_minor)
        .join(AllocationLine, AllocationLine.id == AllocationPhase.line_id)
        .where(AllocationLine.budget_id.in_(list(budget_ids)), AllocationLine.status.in_(PLANNED))
    )
    return pd.DataFrame.from_records(_tuples(stmt), columns=["line_id", "month", "planned_minor"])


def raw_actuals(campaign_ids: Sequence[int], since: date, until: date) -> pd.DataFrame:
    """Actual spend of these campaigns over the window (analytics.spend: ads and influencers)."""
    return spend.campaign_spend(campaign_ids, since, until)


def converted_actuals(lines: pd.DataFrame, since: date, until: date) -> pd.DataFrame:
    """Actuals of the lines' campaigns, converted into each line's currency."""
    raw = raw_actuals(lines["campaign_id"].tolist() if not lines.empty else [], since, until)
    target = lines.drop_duplicates("campaign_id").set_index("campaign_id")["currency"]
    return spend.convert(raw, target.to_dict())


@dataclass
class Report:
    """Everything pacing and exports need for a set of budgets, loaded once."""

    budgets: dict[int, Budget]
    lines: pd.DataFrame
    plan: pd.DataFrame
    actuals: pd.DataFrame
    today: date

    def paced(self) -> pd.DataFrame:
        return pacing.pace(self.lines, self.plan, self.actuals, self.today)

    def budget_vs_actual(self) -> pd.DataFrame:
        return pacing.budget_vs_actual(self.lines, self.plan, self.actuals)


def build_report(budgets: Sequence[Budget], today: date) -> Report:
    ids = [b.id for b in budgets]
    lines = lines_frame(ids)
    plan = pacing.monthly_plan(lines, phases_frame(ids))
    if budgets:
        since = min(b.start_date for b in budgets)
        until = max(b.end_date for b in budgets)
    else:
        since = until = today
    actuals = converted_actuals(lines, since, until)
    return Report({b.id: b for b in budgets}, lines, plan, actuals, today)
