"""Maker-checker and the refusals of a stale or wrong transition, with what happened last:
"Already approved by Fiona Finance at 14:02 UTC.", "This budget's period was closed by …"."""

from __future__ import annotations

from budgets.models import AllocationLine, Budget, LineStatus, Reallocation, RequestStatus
from budgets.services import BudgetError
from core.extensions import db
from core.locking import when
from core.models import User


def not_maker(user: User, line: AllocationLine) -> None:
    """Maker-checker for a line: the decider is none of its makers."""
    if user.id == line.requested_by_id:
        raise BudgetError("You requested this line: someone else in finance must decide it.")
    if user.id == line.amounts_edited_by_id:
        raise BudgetError(
            "You last changed this line's amount: someone else in finance must decide it."
        )
    if user.id == line.submitted_by_id:
        raise BudgetError("You submitted this line: someone else in finance must decide it.")


def not_own(user: User, requested_by_id: int) -> None:
    if user.id == requested_by_id:
        raise BudgetError("You made this request: someone else in finance must decide it.")


def check_open(budget: Budget) -> None:
    if budget.is_closed:
        by = f" by {budget.closed_by.name}" if budget.closed_by else ""
        raise BudgetError(
            f"This budget's period was closed{by} {when(budget.closed_at)}: it is read-only."
        )


def line_state(line: AllocationLine) -> str:
    """What happened to a line last, for "this one …" refusals."""
    status = line.status_enum
    decider = line.decided_by.name if line.decided_by else "finance"
    if status is LineStatus.APPROVED:
        return f"was approved by {decider} {when(line.decided_at)}"
    if status is LineStatus.REJECTED:
        return f"was rejected by {decider} {when(line.decided_at)}"
    if status is LineStatus.SUBMITTED:
        who = line.submitted_by.name if line.submitted_by else line.requested_by.name
        return f"was submitted by {who} {when(line.submitted_at)}"
    if status is LineStatus.WITHDRAWN:
        return f"was withdrawn {when(line.updated_at)}"
    if status is LineStatus.LOCKED:
        return "is locked: its period is closed"
    return f"is a draft (changed {when(line.updated_at)})"


def refuse_line(line: AllocationLine, verb: str, allowed: str, done: LineStatus) -> None:
    """Refuse `verb` on a line in the wrong state; "Already …" when it is what was asked.

    The budget read with the locked line may predate a close that committed while this waited
    for the lock (the close is why the line changed): read it again to say so."""
    db.session.refresh(line.budget)
    check_open(line.budget)
    state = line_state(line)
    if line.status_enum is done:
        raise BudgetError(f"Already {state.split(' ', 1)[1]}.")
    raise BudgetError(f"Only {allowed} lines can be {verb}: this one {state}.")


def still_pending(request: Reallocation) -> None:
    """Refuse a decided request: "Already approved by … at …"."""
    if request.status != RequestStatus.PENDING:
        who = request.decided_by.name if request.decided_by else "finance"
        raise BudgetError(f"Already {request.status} by {who} {when(request.decided_at)}.")
