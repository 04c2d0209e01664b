"""What the budget pages show: lines a user may see, their pacing, roll-ups and the chart.

Roles that see only some lines (marketers: their campaigns; coordinators: influencer lines)
get pacing and totals of those lines only, never of the whole budget.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy import or_, select

from budgets import pacing
from budgets.actuals import Report, build_report
from budgets.charts import pacing_figure
from budgets.models import HOLDING, AllocationLine, Budget, LineStatus, Reallocation
from budgets.rules import can_see_line, can_see_reallocation
from budgets.services import holding_total
from campaigns.models import Channel
from core.extensions import db
from core.models import AuditEntry, Role
from core.money import Money

FULL_VIEW = (Role.ADMIN, Role.FINANCE, Role.VIEWER)


@dataclass
class Pace:
    """One row of pacing, as Money for templates."""

    planned: Money
    plan_to_date: Money
    actual: Money | None
    committed: Money | None
    spent: Money | None
    projected: Money | None
    state: str
    projected_overspend: bool
    label: str = ""
    # Spend of the period outside the campaign's flight: its own figure, not in `actual`.
    outside: Money | None = None
    outside_missing: bool = False

    @property
    def state_label(self) -> str:
        return pacing.STATES[self.state]


def _money(value: Any, currency: str) -> Money | None:
    return None if value is None or pd.isna(value) else Money(int(value), currency)


def to_pace(row: Any, currency: str, label: str = "") -> Pace:
    return Pace(
        planned=Money(int(row["planned_minor"]), currency),
        plan_to_date=Money(int(row["plan_to_date_minor"]), currency),
        actual=_money(row["actual_minor"], currency),
        committed=_money(row["committed_minor"], currency),
        spent=_money(row["spent_minor"], currency),
        projected=_money(row["projected_minor"], currency),
        state=row["state"],
        projected_overspend=bool(row["projected_overspend"]),
        label=label,
        outside=_money(row["outside_minor"], currency),
        outside_missing=pd.isna(row["outside_minor"]),
    )


@dataclass
class Overview:
    budget: Budget
    full_view: bool
    lines: list[AllocationLine]
    pace_by_line: dict[int, Pace] = field(default_factory=dict)
    by_campaign: list[Pace] = field(default_factory=list)
    by_channel: list[Pace] = field(default_factory=list)
    total: Pace | None = None
    figure: str | None = None
    held: Money | None = None
    approved: Money | None = None
    unallocated: Money | None = None
    reallocations: list[Reallocation] = field(default_factory=list)


def visible_lines(budget: Budget, user: Any) -> list[AllocationLine]:
    return [line for line in budget.lines if can_see_line(user, line)]


def budget_overview(budget: Budget, user: Any, today: date) -> Overview:
    lines = visible_lines(budget, user)
    full = Role(user.role) in FULL_VIEW
    view = Overview(budget, full, lines)
    cur = budget.currency
    view.held = Money(sum(x.planned_minor for x in lines if x.status in HOLDING), cur)
    view.approved = Money(
        sum(x.planned_minor for x in lines if x.status in (LineStatus.APPROVED, LineStatus.LOCKED)),
        cur,
    )
    view.unallocated = budget.total - Money(holding_total(budget.id), cur)
    requests = db.session.scalars(
        select(Reallocation)
        .where(Reallocation.budget_id == budget.id)
        .order_by(Reallocation.created_at.desc(), Reallocation.id.desc())
    )
    view.reallocations = [r for r in requests if can_see_reallocation(user, r)]
    report = build_report([budget], today)
    ids = {x.id for x in lines}
    report = _only(report, ids)
    if report.lines.empty:
        return view
    paced = report.paced()
    names = dict(zip(report.lines["campaign_id"], report.lines["campaign"], strict=False))
    view.pace_by_line = {int(r["line_id"]): to_pace(r, cur) for _, r in paced.iterrows()}
    view.by_campaign = [
        to_pace(r, cur, names.get(r["campaign_id"], ""))
        for _, r in pacing.roll_up(paced, ["campaign_id"]).iterrows()
    ]
    view.by_channel = [
        to_pace(r, cur, Channel(r["channel"]).label)
        for _, r in pacing.roll_up(paced, ["channel"]).iterrows()
    ]
    rolled = pacing.roll_up(paced, ["budget_id"])
    view.total = to_pace(rolled.iloc[0], cur, "Budget")
    attached = pacing.attach(report.lines, report.actuals)
    curve = pacing.daily_curve(
        report.plan, rolled.iloc[0], attached, budget.start_date, budget.end_date, today
    )
    view.figure = pacing_figure(curve, cur, int(rolled.iloc[0]["planned_minor"]))
    return view


def _only(report: Report, line_ids: set[int]) -> Report:
    lines = report.lines[report.lines["line_id"].isin(line_ids)]
    plan = report.plan[report.plan["line_id"].isin(line_ids)]
    return Report(report.budgets, lines, plan, report.actuals, report.today)


def budgets_pacing(budgets: list[Budget], today: date) -> dict[int, Pace]:
    """Budget-level pacing for lists and the finance dashboard (full view only)."""
    return finance_summary(budgets, today)[0]


@dataclass
class LinePace:
    budget: Budget
    campaign: str
    channel: str
    pace: Pace

    @property
    def channel_label(self) -> str:
        return Channel(self.channel).label

    @property
    def share(self) -> float:
        """Spend to date over plan to date, minus one (ranking and display only)."""
        if self.pace.spent is None:
            return 0.0
        plan = self.pace.plan_to_date.minor
        if plan == 0:
            return 1.0 if self.pace.spent.minor else 0.0
        return (self.pace.spent.minor - plan) / plan


def finance_summary(budgets: list[Budget], today: date) -> tuple[dict[int, Pace], list[LinePace]]:
    """Pacing per budget and per line of `budgets`, from one report."""
    if not budgets:
        return {}, []
    report = build_report(budgets, today)
    if report.lines.empty:
        return {}, []
    paced = report.paced()
    by_id = {b.id: b for b in budgets}
    rolled = pacing.roll_up(paced, ["budget_id"])
    per_budget = {
        int(r["budget_id"]): to_pace(r, by_id[int(r["budget_id"])].currency)
        for _, r in rolled.iterrows()
    }
    lines = [
        LinePace(by_id[int(r["budget_id"])], r["campaign"], r["channel"], to_pace(r, r["currency"]))
        for _, r in paced.iterrows()
    ]
    return per_budget, lines


def budget_history(budget: Budget, limit: int = 500) -> list[AuditEntry]:
    """Audit entries of the budget, its lines (and their phasing) and its reallocations."""
    line_ids = [
        str(i)
        for i in db.session.scalars(
            select(AllocationLine.id).where(AllocationLine.budget_id == budget.id)
        )
    ]
    request_ids = [
        str(i)
        for i in db.session.scalars(
            select(Reallocation.id).where(Reallocation.budget_id == budget.id)
        )
    ]
    phases = [AuditEntry.object_label.like(f"Line {i} %") for i in line_ids]
    stmt = (
        select(AuditEntry)
        .where(
            or_(
                (AuditEntry.object_type == "Budget") & (AuditEntry.object_id == str(budget.id)),
                (AuditEntry.object_type == "AllocationLine") & AuditEntry.object_id.in_(line_ids),
                (AuditEntry.object_type == "Reallocation") & AuditEntry.object_id.in_(request_ids),
                (AuditEntry.object_type == "AllocationPhase") & or_(False, *phases),
            )
        )
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(stmt))
