"""What other packages may ask of budgets. Stable signatures.

Imported lazily by influencers (inside functions) so the two packages do not import each other
at module load.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import case, func, select

from core.money import Money


def influencer_allocation(campaign_id: int, currency: str) -> Money | None:
    """Approved planned amount on the campaign's "influencers" channel lines, in `currency`.

    Approved and locked lines count, across every budget. Lines in another currency are
    converted at today's rate (or the nearest earlier one). None when the campaign has no
    approved influencer allocation at all, or when a needed rate is missing (a partial sum
    would understate the allocation).
    """
    from budgets.fx import convert
    from budgets.models import PLANNED, AllocationLine
    from core.extensions import db

    rows = db.session.execute(
        select(AllocationLine.planned_minor, AllocationLine.currency).where(
            AllocationLine.campaign_id == campaign_id,
            AllocationLine.channel == "influencers",
            AllocationLine.status.in_(PLANNED),
        )
    ).all()
    if not rows:
        return None
    today = datetime.now(UTC).date()
    total = Money.zero(currency)
    for minor, line_currency in rows:
        converted = convert(Money(int(minor), line_currency), currency, today).money
        if converted is None:
            return None
        total = total + converted
    return total


@dataclass(frozen=True)
class Holding:
    """Money budget lines hold for one campaign in one budget (draft, submitted, approved or
    locked lines: the amounts the guard rails count)."""

    budget_name: str
    period: str
    start: date
    end: date
    held: Money
    approved: Money  # of `held`, approved or locked


def campaign_holdings(campaign_id: int) -> list[Holding]:
    """Per budget, what its lines hold for the campaign (budgets holding nothing left out)."""
    from budgets.models import HOLDING, PLANNED, AllocationLine, Budget
    from core.extensions import db

    line = AllocationLine
    approved = case((line.status.in_(PLANNED), line.planned_minor), else_=0)
    rows = db.session.execute(
        select(
            Budget.name,
            Budget.period,
            Budget.start_date,
            Budget.end_date,
            line.currency,
            func.sum(line.planned_minor),
            func.sum(approved),
        )
        .join(Budget, Budget.id == line.budget_id)
        .where(line.campaign_id == campaign_id, line.status.in_(HOLDING))
        .group_by(Budget.id, Budget.name, Budget.period, Budget.start_date, Budget.end_date)
        .group_by(line.currency)
        .order_by(Budget.start_date, Budget.id)
    ).all()
    return [
        Holding(name, period, start, end, Money(int(held), cur), Money(int(ok), cur))
        for name, period, start, end, cur, held, ok in rows
        if held
    ]


def convert(amount: Money, to_currency: str, on: date) -> Money | None:
    """`amount` in `to_currency` at the rate of `on` (or the nearest earlier); None if missing."""
    from budgets import fx

    return fx.convert(amount, to_currency, on).money
