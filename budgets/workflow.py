"""Approvals: draft → submitted → approved | rejected (→ locked when the period closes),
reallocation requests between approved lines, closing a period, in-app notifications.

Maker-checker: nobody decides a request they made, last changed the amounts of, or submitted.
Every change locks and re-reads its rows first (core/locking.py) and checks the state after
the lock, so of two people acting at the same instant the second is told what the first did
("Already approved by … at …") and changes nothing, writes no audit row, sends no notice.
Every money change is flushed inside `audit_comment`, so the audit log holds who, when,
before → after and why. Nothing here commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import func, select, update

from budgets.models import (
    AllocationLine,
    Budget,
    BudgetStatus,
    LineStatus,
    Notification,
    Reallocation,
    RequestStatus,
)
from budgets.refusals import (
    check_open,
    line_state,
    not_maker,
    not_own,
    refuse_line,
    still_pending,
)
from budgets.services import (
    BudgetError,
    Problems,
    campaign_holding_total,
    check_line,
    lock_line,
    parse_money,
    rescale_phases,
)
from core.audit import audit_comment
from core.extensions import db
from core.locking import lock, lock_where
from core.models import Role, User
from core.money import Money
from core.types import utcnow

MAX_COMMENT = 2000


def budget_path(budget_id: int) -> str:
    return f"/budgets/{budget_id}"


def _comment(text: str | None, required: bool, what: str = "comment") -> str:
    clean = (text or "").strip()
    if required and not clean:
        raise BudgetError(f"Give a {what}: the requester sees it.", "comment")
    if len(clean) > MAX_COMMENT or "\x00" in clean:
        raise BudgetError(f"Keep the {what} under 2,000 printable characters.", "comment")
    return clean


# --- notifications ----------------------------------------------------------------------------


def notify(user_ids: Iterable[int], message: str, url: str) -> None:
    for user_id in sorted(set(user_ids)):
        db.session.add(Notification(user_id=user_id, message=message[:300], url=url[:300]))


def finance_ids(exclude: int | None = None) -> list[int]:
    stmt = select(User.id).where(User.role == Role.FINANCE.value, User.active.is_(True))
    return [i for i in db.session.scalars(stmt) if i != exclude]


def unread_count(user_id: int) -> int:
    stmt = select(func.count(Notification.id)).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)
    )
    return int(db.session.scalar(stmt) or 0)


def mark_read(user_id: int) -> int:
    result = db.session.execute(
        update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    return result.rowcount or 0


# --- lines --------------------------------------------------------------------------------------


def _describe(line: AllocationLine) -> str:
    return f"{line.planned} for “{line.campaign.name}” × {line.channel_label}"


def submit_line(user: User, line: AllocationLine) -> None:
    lock_line(line)
    check_open(line.budget)
    if line.status_enum is not LineStatus.DRAFT:
        refuse_line(line, "submitted", "draft", LineStatus.SUBMITTED)
    check_line(line.budget, line.campaign, line.channel, line.planned, line.id)
    recipients = finance_ids(exclude=line.requested_by_id)
    with audit_comment("Submitted for approval"):
        line.status = LineStatus.SUBMITTED.value
        line.submitted_at, line.submitted_by_id = utcnow(), user.id
        notify(
            recipients,
            f"{line.requested_by.name} asks for {_describe(line)} in “{line.budget.name}”.",
            budget_path(line.budget_id),
        )
        db.session.flush()


def approve_line(user: User, line: AllocationLine, comment: str | None = None) -> None:
    text = _comment(comment, required=False)
    lock_line(line)
    check_open(line.budget)
    if line.status_enum is not LineStatus.SUBMITTED:
        refuse_line(line, "approved", "submitted", LineStatus.APPROVED)
    not_maker(user, line)
    check_line(line.budget, line.campaign, line.channel, line.planned, line.id)
    with audit_comment("Approved" + (f": {text}" if text else "")):
        _decide(user, line, LineStatus.APPROVED, text)
        notify(
            [line.requested_by_id],
            f"Approved: {_describe(line)}" + (f" — “{text}”" if text else "."),
            budget_path(line.budget_id),
        )
        db.session.flush()


def reject_line(user: User, line: AllocationLine, comment: str | None) -> None:
    text = _comment(comment, required=True, what="reason")
    lock_line(line)
    check_open(line.budget)
    if line.status_enum is not LineStatus.SUBMITTED:
        refuse_line(line, "rejected", "submitted", LineStatus.REJECTED)
    not_maker(user, line)
    with audit_comment(f"Rejected: {text}"):
        _decide(user, line, LineStatus.REJECTED, text)
        notify(
            [line.requested_by_id],
            f"Rejected: {_describe(line)} — “{text}”",
            budget_path(line.budget_id),
        )
        db.session.flush()


def _decide(user: User, line: AllocationLine, status: LineStatus, text: str) -> None:
    line.status = status.value
    line.decided_by_id, line.decided_at, line.decision_comment = user.id, utcnow(), text


def withdraw_line(user: User, line: AllocationLine) -> None:
    lock_line(line)
    check_open(line.budget)
    if line.status_enum not in (LineStatus.DRAFT, LineStatus.SUBMITTED):
        refuse_line(line, "withdrawn", "draft or submitted", LineStatus.WITHDRAWN)
    with audit_comment(f"Withdrawn by {user.name}"):
        line.status = LineStatus.WITHDRAWN.value
        db.session.flush()


# --- reallocations ------------------------------------------------------------------------------


def pending_out(line_id: int, exclude: int | None = None) -> int:
    stmt = select(func.coalesce(func.sum(Reallocation.amount_minor), 0)).where(
        Reallocation.from_line_id == line_id, Reallocation.status == RequestStatus.PENDING.value
    )
    if exclude:
        stmt = stmt.where(Reallocation.id != exclude)
    return int(db.session.scalar(stmt))


def _check_move(
    budget: Budget,
    source: AllocationLine,
    target: AllocationLine,
    amount: Money,
    request_id: int | None = None,
) -> None:
    """Every rule for moving `amount` from `source` to `target`; all refusals at once. Call it
    after locking the budget, both lines and both campaigns."""
    check_open(budget)
    if source.budget_id != budget.id or target.budget_id != budget.id:
        raise BudgetError("Both lines must belong to this budget.", "from_line_id")
    if source.id == target.id:
        raise BudgetError("Choose two different lines.", "to_line_id")
    problems = Problems()
    for line, field in ((source, "from_line_id"), (target, "to_line_id")):
        if line.status_enum is not LineStatus.APPROVED:
            problems.add(f"Line {line.id} {line_state(line)}: only approved lines move.", field)
    if amount.currency != budget.currency:
        problems.add(f"The amount must be in {budget.currency}.", "amount")
    elif amount.minor <= 0:
        problems.add("Move more than zero.", "amount")
    problems.raise_any()
    available = source.planned_minor - pending_out(source.id, exclude=request_id)
    if amount.minor > available:
        problems.add(
            f"Line {source.id} has {Money(max(available, 0), budget.currency)} free to move "
            "(after other pending requests).",
            "amount",
        )
    if source.campaign_id != target.campaign_id:
        campaign = target.campaign
        held = campaign_holding_total(campaign.id)
        if held + amount.minor > campaign.planned_budget_minor:
            problems.add(
                f"“{campaign.name}” would get {Money(held + amount.minor, budget.currency)} in "
                f"all, above its planned budget {campaign.planned_budget}.",
                "amount",
            )
    problems.attempt(_check_contracted, source, target, amount)
    problems.raise_any()


def _check_contracted(source: AllocationLine, target: AllocationLine, amount: Money) -> None:
    """Money leaving a campaign's influencer allocation may not take it below the fees already
    contracted with influencers (contracting locks the campaign row too)."""
    from budgets.api import influencer_allocation
    from influencers.api import contracted_fees

    if source.channel != "influencers":
        return
    if target.campaign_id == source.campaign_id and target.channel == "influencers":
        return
    campaign = source.campaign
    contracted = contracted_fees(campaign.id, amount.currency)
    if contracted is None:
        raise BudgetError(
            f"No exchange rate to compare the influencer fees contracted on “{campaign.name}” "
            f"with {amount.currency}; add one before moving influencer money.",
            "amount",
        )
    if not contracted.minor:
        return
    allocation = influencer_allocation(campaign.id, amount.currency)
    left = (allocation or Money.zero(amount.currency)) - amount
    if left < contracted:
        raise BudgetError(
            f"“{campaign.name}” has {contracted} contracted with influencers: moving {amount} "
            f"would leave its influencer allocation at {left}, below that.",
            "amount",
        )


def _lock_move(budget: Budget, source: AllocationLine, target: AllocationLine, *more) -> None:
    lock(budget, source.campaign, target.campaign, source, target, *more)


def check_reallocation_input(budget: Budget, amount_text: str, reason: str) -> Money:
    """The amount and the reason of a move, each checked; every refusal at once."""
    problems = Problems()
    amount = problems.attempt(parse_money, amount_text, budget.currency, "amount")
    problems.attempt(_comment, reason, True, "reason")
    problems.raise_any()
    return amount


def request_reallocation(
    user: User,
    budget: Budget,
    source: AllocationLine,
    target: AllocationLine,
    amount_text: str,
    reason: str,
) -> Reallocation:
    amount = check_reallocation_input(budget, amount_text, reason)
    text = _comment(reason, required=True, what="reason")
    _lock_move(budget, source, target)
    _check_move(budget, source, target, amount)
    recipients = finance_ids(exclude=user.id)
    with audit_comment(f"Reallocation requested: {text}"):
        request = Reallocation(
            budget_id=budget.id,
            from_line_id=source.id,
            to_line_id=target.id,
            currency=budget.currency,
            amount_minor=amount.minor,
            reason=text,
            status=RequestStatus.PENDING.value,
            requested_by_id=user.id,
        )
        db.session.add(request)
        notify(
            recipients,
            f"{user.name} asks to move {amount} from line {source.id} to line {target.id} in "
            f"“{budget.name}”.",
            budget_path(budget.id),
        )
        db.session.flush()
    return request


def approve_reallocation(user: User, request: Reallocation, comment: str | None = None) -> None:
    """Maker-checker: a request's amount is never edited after it is made, so its requester is
    its only maker."""
    text = _comment(comment, required=False)
    budget, source, target = request.budget, request.from_line, request.to_line
    _lock_move(budget, source, target, request)
    still_pending(request)
    not_own(user, request.requested_by_id)
    _check_move(budget, source, target, request.amount, request.id)
    note = f"Reallocation {request.id} approved: {request.reason}" + (f" / {text}" if text else "")
    with audit_comment(note):
        source.planned_minor -= request.amount_minor
        target.planned_minor += request.amount_minor
        rescale_phases(source)
        rescale_phases(target)
        request.status = RequestStatus.APPROVED.value
        request.decided_by_id, request.decided_at = user.id, utcnow()
        request.decision_comment = text
        notify(
            [request.requested_by_id],
            f"Approved: move {request.amount} from line {source.id} to line {target.id}"
            + (f" — “{text}”" if text else "."),
            budget_path(budget.id),
        )
        db.session.flush()


def reject_reallocation(user: User, request: Reallocation, comment: str | None) -> None:
    text = _comment(comment, required=True, what="reason")
    lock(request.budget, request)
    still_pending(request)
    not_own(user, request.requested_by_id)
    with audit_comment(f"Reallocation {request.id} rejected: {text}"):
        request.status = RequestStatus.REJECTED.value
        request.decided_by_id, request.decided_at = user.id, utcnow()
        request.decision_comment = text
        notify(
            [request.requested_by_id],
            f"Rejected: move {request.amount} from line {request.from_line_id} to line "
            f"{request.to_line_id} — “{text}”",
            budget_path(request.budget_id),
        )
        db.session.flush()


# --- closing a period ---------------------------------------------------------------------------


def close_budget(user: User, budget: Budget, today: date) -> None:
    """Lock approved lines, refuse what is still pending, and lock the period's FX rates."""
    lock(budget)
    check_open(budget)
    if today <= budget.end_date:
        raise BudgetError(
            f"The period runs until {budget.end_date:%d %b %Y}: close it after that day."
        )
    lines = lock_where(AllocationLine, AllocationLine.budget_id == budget.id)
    pending = lock_where(
        Reallocation,
        Reallocation.budget_id == budget.id,
        Reallocation.status == RequestStatus.PENDING.value,
    )
    now = utcnow()
    with audit_comment("Period closed"):
        for line in lines:
            if line.status_enum is LineStatus.APPROVED:
                line.status = LineStatus.LOCKED.value
            elif line.status_enum is LineStatus.SUBMITTED:
                _decide(user, line, LineStatus.REJECTED, "Period closed before a decision")
            elif line.status_enum is LineStatus.DRAFT:
                line.status = LineStatus.WITHDRAWN.value
        for request in pending:
            request.status = RequestStatus.REJECTED.value
            request.decided_by_id, request.decided_at = user.id, now
            request.decision_comment = "Period closed before a decision"
        budget.status = BudgetStatus.CLOSED.value
        budget.closed_at, budget.closed_by_id = now, user.id
        db.session.flush()
