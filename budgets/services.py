"""Budget rules: budgets, allocation lines and their guard rails, per-role allow-lists.
Reading the posted values (and BudgetError) is budgets/inputs.py.

Approvals, reallocations and closing live in budgets/workflow.py. Nothing here commits: the
view or CLI entry point does. Money is `Money` (integer minor units); amounts are parsed with
the currency's ISO 4217 precision.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select

from budgets.inputs import (
    BudgetError,
    Problems,
    allowed,
    find_campaign,
    int_in,
    note_text,
    parse_money,
)
from budgets.models import (
    HOLDING,
    AllocationLine,
    Budget,
    BudgetStatus,
    LineStatus,
)
from budgets.periods import PeriodError, parse_period
from budgets.split import split
from campaigns.models import Campaign, CampaignStatus, Channel
from core.audit import audit_comment
from core.extensions import db
from core.locking import lock
from core.models import Role, User
from core.money import Money, MoneyError, check_currency

EDITABLE_LINE_STATUSES = (LineStatus.DRAFT, LineStatus.REJECTED, LineStatus.WITHDRAWN)

# Per-role allow-lists: a form post can only ever touch these keys (no mass assignment of
# status, owner, requester or decision fields).
BUDGET_FIELDS = {
    Role.FINANCE.value: ("name", "period", "currency", "total", "under_pct", "over_pct")
}
LINE_FIELDS = {
    Role.FINANCE.value: ("campaign_id", "channel", "planned", "note"),
    Role.MARKETER.value: ("campaign_id", "channel", "planned", "note"),
}


# --- budgets ----------------------------------------------------------------------------------


def holding_total(budget_id: int, exclude_line_id: int | None = None) -> int:
    stmt = select(func.coalesce(func.sum(AllocationLine.planned_minor), 0)).where(
        AllocationLine.budget_id == budget_id, AllocationLine.status.in_(HOLDING)
    )
    if exclude_line_id:
        stmt = stmt.where(AllocationLine.id != exclude_line_id)
    return int(db.session.scalar(stmt))


def campaign_holding_total(campaign_id: int, exclude_line_id: int | None = None) -> int:
    stmt = select(func.coalesce(func.sum(AllocationLine.planned_minor), 0)).where(
        AllocationLine.campaign_id == campaign_id, AllocationLine.status.in_(HOLDING)
    )
    if exclude_line_id:
        stmt = stmt.where(AllocationLine.id != exclude_line_id)
    return int(db.session.scalar(stmt))


def apply_budget(budget: Budget, data: Mapping[str, Any], role: str, comment: str = "") -> None:
    """Set the allowed fields of a (new or existing) budget; raise BudgetError on a rule."""
    if budget.id is not None:
        lock(budget)  # the total is checked against the lines: no line changes meanwhile
    # The comment covers every flush from here: the sums queried below autoflush.
    with audit_comment(comment or None):
        _apply_budget(budget, allowed(data, BUDGET_FIELDS, role))
        db.session.flush()


def _apply_budget(budget: Budget, clean: dict[str, Any]) -> None:
    if budget.id is not None and budget.is_closed:
        raise BudgetError("This budget's period is closed: it is read-only.")
    has_lines = budget.id is not None and bool(
        db.session.scalar(select(AllocationLine.id).where(AllocationLine.budget_id == budget.id))
    )
    problems = Problems()
    if "name" in clean:
        problems.attempt(_set_name, budget, clean["name"])
    if "currency" in clean and clean["currency"] != budget.currency:
        if has_lines:
            problems.add("The budget has allocation lines: its currency is fixed.", "currency")
        else:
            problems.attempt(_set_currency, budget, clean["currency"])
    if "period" in clean:
        problems.attempt(_set_period, budget, clean["period"], has_lines)
    if "total" in clean:
        problems.attempt(_set_total, budget, clean["total"])
    if "under_pct" in clean:
        under = problems.attempt(int_in, clean["under_pct"], 1, 100, "under_pct", "Under-pacing")
        if under is not None:
            budget.under_pct = under
    if "over_pct" in clean:
        over = problems.attempt(int_in, clean["over_pct"], 100, 1000, "over_pct", "Over-pacing")
        if over is not None:
            budget.over_pct = over
    problems.raise_any()


def _set_name(budget: Budget, value: Any) -> None:
    name = str(value or "").strip()
    if not name:
        raise BudgetError("Give the budget a name.", "name")
    if len(name) > 160 or "\x00" in name:
        raise BudgetError("Use at most 160 printable characters.", "name")
    budget.name = name


def _set_currency(budget: Budget, value: Any) -> None:
    try:
        budget.currency = check_currency(str(value))
    except MoneyError as exc:
        raise BudgetError(str(exc) + ".", "currency") from None


def _set_period(budget: Budget, value: Any, has_lines: bool) -> None:
    try:
        period = parse_period(str(value))
    except PeriodError as exc:
        raise BudgetError(str(exc), "period") from None
    changed = (period.start, period.end) != (budget.start_date, budget.end_date)
    if changed and has_lines:
        raise BudgetError("The budget has allocation lines: its period is fixed.", "period")
    budget.period, budget.period_kind = period.label, period.kind.value
    budget.start_date, budget.end_date = period.start, period.end


def _set_total(budget: Budget, value: Any) -> None:
    total = parse_money(value, budget.currency, "total")
    held = holding_total(budget.id) if budget.id else 0
    if total.minor < held:
        raise BudgetError(
            f"Lines already hold {Money(held, budget.currency)}: the total cannot go below "
            "that. Reject or reallocate lines first.",
            "total",
        )
    budget.total = total


def check_budget_input(data: Mapping[str, Any], role: str, currency: str) -> None:
    """The budget form's fields checked on their own (names, period, amounts, percentages),
    on a scratch budget: nothing is changed or written."""
    scratch = Budget(currency=currency, total_minor=0)
    _apply_budget(scratch, {k: v for k, v in allowed(data, BUDGET_FIELDS, role).items() if v})


def create_budget(owner: User, data: Mapping[str, Any], role: str) -> Budget:
    budget = Budget(owner_id=owner.id, status=BudgetStatus.OPEN.value, total_minor=0)
    budget.currency = str(data.get("currency") or "")
    problems = Problems()
    problems.attempt(_set_currency, budget, budget.currency)
    for required in ("name", "period", "total"):
        if required not in allowed(data, BUDGET_FIELDS, role):
            problems.add("This field is required.", required)
    if not problems.found:
        problems.attempt(apply_budget, budget, data, role)
    problems.raise_any()
    db.session.add(budget)
    with audit_comment("Budget created"):
        db.session.flush()
    return budget


# --- allocation lines: guard rails ------------------------------------------------------------


def check_line(
    budget: Budget, campaign: Campaign, channel: str, planned: Money, line_id: int | None = None
) -> None:
    """Every guard rail for a line holding `planned` on campaign × channel of `budget`; all the
    refusals at once. Call it after `lock(budget, campaign, …)`: the sums must be current."""
    if budget.is_closed:
        raise BudgetError("This budget's period is closed: it is read-only.")
    problems = Problems()
    known_channel = channel in {c.value for c in Channel}
    if not known_channel:
        problems.add("Choose a channel from the list.", "channel")
    if planned.currency != budget.currency:
        problems.add(
            f"The amount is in {planned.currency}; this budget is in {budget.currency}.", "planned"
        )
    if campaign.currency != budget.currency:
        problems.add(
            f"“{campaign.name}” plans in {campaign.currency}; this budget is in "
            f"{budget.currency}. Allocate it from a {campaign.currency} budget.",
            "campaign_id",
        )
    if planned.is_negative():
        problems.add("Amounts cannot be negative.", "planned")
    elif planned.minor == 0:
        problems.add(f"Enter an amount above {planned}.", "planned")
    if campaign.status == CampaignStatus.ARCHIVED:
        problems.add(f"“{campaign.name}” is archived.", "campaign_id")
    elif known_channel and channel not in campaign.channels:
        problems.add(
            f"“{campaign.name}” does not run on {Channel(channel).label}: add the channel to "
            "the campaign first.",
            "channel",
        )
    if campaign.end_date < budget.start_date or campaign.start_date > budget.end_date:
        problems.add(
            f"“{campaign.name}” flies {campaign.start_date:%d %b %Y} – "
            f"{campaign.end_date:%d %b %Y}, outside this budget's period.",
            "campaign_id",
        )
    problems.raise_any()
    _check_duplicates(budget, campaign, channel, line_id)
    held = holding_total(budget.id, line_id)
    if held + planned.minor > budget.total_minor:
        left = Money(max(budget.total_minor - held, 0), budget.currency)
        problems.add(
            f"Lines would total {Money(held + planned.minor, budget.currency)}, above the budget "
            f"total {budget.total} ({left} left).",
            "planned",
        )
    held_campaign = campaign_holding_total(campaign.id, line_id)
    if held_campaign + planned.minor > campaign.planned_budget_minor:
        left = Money(max(campaign.planned_budget_minor - held_campaign, 0), campaign.currency)
        problems.add(
            f"“{campaign.name}” would get {Money(held_campaign + planned.minor, budget.currency)}"
            f" in all, above its planned budget {campaign.planned_budget} ({left} left).",
            "planned",
        )
    problems.raise_any()


def _check_duplicates(budget: Budget, campaign: Campaign, channel: str, line_id: int | None):
    same = select(AllocationLine).where(
        AllocationLine.campaign_id == campaign.id, AllocationLine.channel == channel
    )
    if line_id:
        same = same.where(AllocationLine.id != line_id)
    for other in db.session.scalars(same.join(Budget)):
        if other.budget_id == budget.id:
            raise BudgetError(
                f"This budget already has a {Channel(channel).label} line for "
                f"“{campaign.name}” (line {other.id}, {other.status}): change that one.",
                "channel",
            )
        ob = other.budget
        overlaps = ob.start_date <= budget.end_date and ob.end_date >= budget.start_date
        if overlaps and other.status in HOLDING:
            raise BudgetError(
                f"“{campaign.name}” × {Channel(channel).label} is already allocated in "
                f"“{ob.name}” ({ob.period}), which overlaps this period: spend would count twice.",
                "channel",
            )


# --- allocation lines: create and edit --------------------------------------------------------


def line_input(
    user: User, clean: Mapping[str, Any], role: str, currency: str, line: AllocationLine | None
) -> tuple[Campaign, str, Money, str]:
    """The posted campaign, channel, amount and note, each checked; every refusal at once."""
    problems = Problems()
    if line is None or "campaign_id" in clean:
        campaign = problems.attempt(find_campaign, clean.get("campaign_id"))
    else:
        campaign = line.campaign
    if campaign is not None and role == Role.MARKETER and campaign.owner_id != user.id:
        problems.add("You can only request budget for campaigns you own.", "campaign_id")
    channel = str(clean.get("channel", line.channel if line else "") or "")
    if channel not in {c.value for c in Channel}:
        problems.add("Choose a channel from the list.", "channel")
    if line is None or "planned" in clean:
        planned = problems.attempt(parse_money, clean.get("planned"), currency, "planned", True)
    else:
        planned = line.planned
    note = problems.attempt(note_text, clean["note"]) if "note" in clean else (line and line.note)
    problems.raise_any()
    return campaign, channel, planned, note or ""


def create_line(user: User, budget: Budget, data: Mapping[str, Any], role: str) -> AllocationLine:
    campaign, channel, planned, note = line_input(
        user, allowed(data, LINE_FIELDS, role), role, budget.currency, None
    )
    lock(budget, campaign)
    check_line(budget, campaign, channel, planned)
    line = AllocationLine(
        budget_id=budget.id,
        campaign=campaign,  # loaded, so the audit entry is labelled with its name
        channel=channel,
        currency=budget.currency,
        planned_minor=planned.minor,
        status=LineStatus.DRAFT.value,
        note=note,
        requested_by_id=user.id,
        amounts_edited_by_id=user.id,
    )
    db.session.add(line)
    with audit_comment(line.note or "Allocation requested"):
        db.session.flush()
    return line


def check_editable(line: AllocationLine) -> None:
    if line.status_enum not in EDITABLE_LINE_STATUSES:
        raise BudgetError(
            f"Line {line.id} is {line.status} now: only draft, rejected or withdrawn lines can "
            "be edited; approved money moves through a reallocation request."
        )


def lock_line(line: AllocationLine, *more: Any) -> None:
    """Lock and re-read a line whose status changes (submit, approve, reject, withdraw) or whose
    phasing does: its budget and campaign come fresh in the same statement, unlocked, since
    none of these changes what a line holds (a submitted line already holds its amount, a
    withdrawn or rejected one holds less). With `more`, a change of what it holds (an edit):
    the budget and the campaigns are locked too, before the line."""
    campaign_id = line.campaign_id
    if more:
        lock(line.budget, line.campaign, line, *more)
    else:
        lock(line, read=(AllocationLine.budget, AllocationLine.campaign))
    if line.campaign_id != campaign_id:
        raise BudgetError(
            f"Line {line.id} was just moved to “{line.campaign.name}” by someone else: reload "
            "the page and try again."
        )


def update_line(
    user: User, line: AllocationLine, data: Mapping[str, Any], role: str, comment: str = ""
) -> None:
    """Change a line that is not (yet) approved; it goes back to draft."""
    check_editable(line)
    campaign, channel, planned, note = line_input(
        user, allowed(data, LINE_FIELDS, role), role, line.budget.currency, line
    )
    lock_line(line, campaign)
    check_editable(line)  # again: it may have been submitted since the page was read
    check_line(line.budget, campaign, channel, planned, line.id)
    money_changed = (campaign.id, channel, planned.minor) != (
        line.campaign_id,
        line.channel,
        line.planned_minor,
    )
    with audit_comment(comment or "Allocation edited"):
        line.campaign_id, line.channel, line.planned, line.note = (
            campaign.id,
            channel,
            planned,
            note,
        )
        if money_changed:
            line.amounts_edited_by_id = user.id
        line.status = LineStatus.DRAFT.value
        line.decided_by_id, line.decided_at, line.decision_comment = None, None, ""
        rescale_phases(line)
        db.session.flush()


def rescale_phases(line: AllocationLine) -> None:
    """Keep a phased line's months adding up to its amount after the amount changed."""
    if not line.phases:
        return
    weights = [p.planned_minor for p in line.phases]
    if not any(weights):
        weights = [1] * len(weights)
    for phase, part in zip(line.phases, split(line.planned_minor, weights), strict=True):
        phase.planned_minor = part
