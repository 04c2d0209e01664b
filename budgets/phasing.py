"""Monthly phasing of a line and the split tool: amounts divided exactly (largest remainder in
minor units) across months or across new draft lines. Nothing here commits."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from budgets.models import AllocationLine, AllocationPhase, Budget, LineStatus
from budgets.periods import month_end, months_between, overlap_days
from budgets.services import (
    BudgetError,
    Problems,
    create_line,
    find_campaign,
    lock_line,
    parse_money,
)
from budgets.split import SplitError, split, split_by_percentages
from core.audit import audit_comment
from core.extensions import db
from core.locking import lock
from core.models import User
from core.money import Money

# --- monthly phasing --------------------------------------------------------------------------


def line_months(line: AllocationLine) -> list[date]:
    return months_between(line.budget.start_date, line.budget.end_date)


def default_phasing(line: AllocationLine) -> dict[date, Money]:
    """What the months get without phasing: the amount split by the flight's days in each
    (the same rule pacing uses)."""
    budget, campaign = line.budget, line.campaign
    months = line_months(line)
    start = max(campaign.start_date, budget.start_date)
    end = min(campaign.end_date, budget.end_date)
    days = [overlap_days(start, end, m, month_end(m)) for m in months]
    if not any(days):
        days = [overlap_days(budget.start_date, budget.end_date, m, month_end(m)) for m in months]
    parts = split(line.planned_minor, days)
    return {m: Money(p, line.currency) for m, p in zip(months, parts, strict=True)}


def set_phasing(
    line: AllocationLine,
    mode: str,
    values: Mapping[date, str],
    comment: str = "",
    user: User | None = None,
) -> None:
    """Phase a line by month: `mode` is amounts, percent or weights (split exactly).

    `user` phasing a line that is not approved yet becomes its last amount editor (maker-
    checker: they may not approve it)."""
    lock_line(line)
    if line.budget.is_closed or line.status_enum is LineStatus.LOCKED:
        raise BudgetError("This line is locked: its period is closed.")
    if line.status_enum is LineStatus.SUBMITTED:
        raise BudgetError(
            "This line was submitted for approval meanwhile: its phasing is fixed until "
            "finance decides it."
        )
    months = line_months(line)
    if set(values) - set(months):
        raise BudgetError("Phase only the months of the budget period.")
    texts = [str(values.get(m, "") or "").strip() for m in months]
    if mode == "clear" or not any(texts):
        parts = None
    elif mode == "amounts":
        parts = [parse_money(t or "0", line.currency, "phases").minor for t in texts]
        if sum(parts) != line.planned_minor:
            raise BudgetError(
                f"The months add up to {Money(sum(parts), line.currency)}, not the line's "
                f"{line.planned}.",
                "phases",
            )
    elif mode in ("percent", "weights"):
        numbers = [_decimal(t or "0") for t in texts]
        try:
            parts = (
                split_by_percentages(line.planned_minor, numbers)
                if mode == "percent"
                else split(line.planned_minor, numbers)
            )
        except SplitError as exc:
            raise BudgetError(str(exc).capitalize() + ".", "phases") from None
    else:
        raise BudgetError("Choose amounts, percentages or weights.", "mode")
    with audit_comment(comment or "Monthly phasing changed"):
        if user is not None and line.status_enum is not LineStatus.APPROVED:
            line.amounts_edited_by_id = user.id
        line.phases.clear()
        db.session.flush()  # the old months go before the new ones take their (line, month)
        if parts is not None:
            for month, part in zip(months, parts, strict=True):
                line.phases.append(AllocationPhase(month=month, planned_minor=part))
        db.session.flush()


def _decimal(text: str) -> Decimal:
    try:
        value = Decimal(text.replace(",", "").rstrip("%").strip())
    except InvalidOperation:
        raise BudgetError(f"{text!r} is not a number.", "phases") from None
    if not value.is_finite() or value < 0 or value > Decimal(10) ** 12:
        raise BudgetError(f"{text!r} is not a usable weight.", "phases")
    return value


# --- split an amount across new lines --------------------------------------------------------


@dataclass(frozen=True)
class SplitRow:
    campaign_id: Any
    channel: str
    weight: str


def split_into_lines(
    user: User, budget: Budget, amount_text: str, mode: str, rows: Sequence[SplitRow], role: str
) -> list[AllocationLine]:
    """Create draft lines whose amounts add up to the amount exactly; all or nothing."""
    amount = parse_money(amount_text, budget.currency, "amount")
    used = [r for r in rows if str(r.campaign_id or "").strip() or str(r.weight or "").strip()]
    if not used:
        raise BudgetError("Add at least one line to split the amount across.", "rows")
    weights = [_decimal(str(r.weight or "0")) for r in used]
    try:
        parts = (
            split_by_percentages(amount.minor, weights)
            if mode == "percent"
            else split(amount.minor, weights)
        )
    except SplitError as exc:
        raise BudgetError(str(exc).capitalize() + ".", "rows") from None
    # Every campaign locked in one go (in id order) before the first line: locking them one by
    # one in the rows' order could wait in a circle with a move between the same campaigns.
    # A row naming no campaign is refused by create_line, beside its row.
    lock(budget, *(Problems().attempt(find_campaign, row.campaign_id) for row in used))
    created = []
    for row, part in zip(used, parts, strict=True):
        if part == 0:
            continue
        data = {
            "campaign_id": row.campaign_id,
            "channel": row.channel,
            "planned": Money(part, budget.currency).amount,
            "note": f"Split of {amount}",
        }
        created.append(create_line(user, budget, data, role))
    return created
