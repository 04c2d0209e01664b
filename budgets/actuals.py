"""Database edge of pacing and exports: planned lines, phases and actuals as frames.

Actuals are synced ad spend (SpendFact → PlatformCampaign.campaign_id, channel = the ad
account's platform) plus influencer costs from `influencers.api.influencer_costs` (paid =
actual; committed or payable = committed). Every amount is converted into its campaign's (so
its budget's) currency at the rate of its day; a missing rate stays visible as <NA>.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import pandas as pd
from sqlalchemy import func, select

from ads.models import AdAccount, PlatformCampaign, SpendFact
from budgets import fx, pacing
from budgets.models import PLANNED, AllocationLine, AllocationPhase, Budget
from campaigns.models import Campaign
from core.extensions import db

LINE_COLUMNS = [
    "line_id", "budget_id", "campaign_id", "campaign", "channel", "currency", "planned_minor",
    "status", "window_start", "window_end", "budget_start", "budget_end", "under_pct",
    "over_pct",
]  # fmt: skip
RAW_COLUMNS = ["campaign_id", "channel", "day", "currency", "amount_minor", "kind", "source"]
INFLUENCER_KIND = {"paid": "actual", "committed": "committed", "payable": "committed"}


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
    """Ad spend summed per campaign × channel × day × currency, plus influencer costs."""
    ids = sorted(set(campaign_ids))
    if not ids:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in RAW_COLUMNS})
    stmt = (
        select(
            PlatformCampaign.campaign_id,
            AdAccount.platform,
            SpendFact.day,
            SpendFact.currency,
            func.sum(SpendFact.spend_minor),
        )
        .join(PlatformCampaign, PlatformCampaign.id == SpendFact.platform_campaign_id)
        .join(AdAccount, AdAccount.id == SpendFact.account_id)
        .where(PlatformCampaign.campaign_id.in_(ids), SpendFact.day.between(since, until))
        .group_by(
            PlatformCampaign.campaign_id, AdAccount.platform, SpendFact.day, SpendFact.currency
        )
    )
    rows = [(c, ch, d, cur, int(v or 0), "actual", "ads") for c, ch, d, cur, v in _tuples(stmt)]
    rows.extend(_influencer_rows(ids, since, until))
    frame = pd.DataFrame.from_records(rows, columns=RAW_COLUMNS)
    return frame.astype({"amount_minor": "int64"})


def _influencer_rows(ids: list[int], since: date, until: date) -> list[tuple]:
    from influencers import api  # lazy: the two packages never import each other at load

    wanted, rows = set(ids), []
    for cost in api.influencer_costs(ids):
        kind = INFLUENCER_KIND.get(cost.state)
        if kind is None or cost.campaign_id not in wanted or not since <= cost.day <= until:
            continue
        rows.append(
            (
                cost.campaign_id,
                "influencers",
                cost.day,
                cost.currency,
                int(cost.amount_minor),
                kind,
                "influencers",
            )
        )
    return rows


def converted_actuals(lines: pd.DataFrame, since: date, until: date) -> pd.DataFrame:
    """Actuals of the lines' campaigns, converted into each line's currency."""
    raw = raw_actuals(lines["campaign_id"].tolist() if not lines.empty else [], since, until)
    target = lines.drop_duplicates("campaign_id").set_index("campaign_id")["currency"]
    raw["target"] = raw["campaign_id"].map(target)
    currencies = set(raw["currency"]) | set(raw["target"].dropna())
    rates = fx.rates_frame(currencies, until)
    parts = [
        fx.convert_frame(group.drop(columns=["target"]), rates, currency)
        for currency, group in raw.groupby("target", sort=True)
    ]
    if not parts:
        return fx.convert_frame(raw.drop(columns=["target"]), rates, "EUR")
    return pd.concat(parts, ignore_index=True)


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
