"""The finance dashboard (budgets with pacing, pending approvals, largest variances) and the
per-period budget-vs-actual download."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from budgets.downloads import export_response
from budgets.models import (
    AllocationLine,
    Budget,
    BudgetStatus,
    LineStatus,
    Reallocation,
    RequestStatus,
)
from budgets.overview import finance_summary
from budgets.periods import PeriodError, parse_period
from core.extensions import db
from core.permissions import require

bp = Blueprint("finance", __name__, url_prefix="/finance")
LARGEST = 6


@bp.route("/")
@require("finance.view")
def dashboard():
    today = datetime.now(UTC).date()
    budgets = list(
        db.session.scalars(
            select(Budget)
            .where(Budget.status == BudgetStatus.OPEN.value)
            .order_by(Budget.start_date.desc(), Budget.name)
        )
    )
    pacing, lines = finance_summary(budgets, today)
    # Largest variances: the lines whose spend runs furthest from their plan to date, and
    # those with spend outside their flight (shown apart, never in the percentage).
    moving = [
        x
        for x in lines
        if (x.pace.spent and (x.pace.spent.minor or x.pace.plan_to_date.minor))
        or x.pace.outside_missing
        or (x.pace.outside and x.pace.outside.minor)
    ]
    ranked = sorted(moving, key=lambda x: -abs(x.share))
    pending_lines = list(
        db.session.scalars(
            select(AllocationLine)
            .where(AllocationLine.status == LineStatus.SUBMITTED.value)
            .order_by(AllocationLine.submitted_at)
        )
    )
    pending_moves = list(
        db.session.scalars(
            select(Reallocation)
            .where(Reallocation.status == RequestStatus.PENDING.value)
            .order_by(Reallocation.created_at)
        )
    )
    periods = sorted({b.period for b in db.session.scalars(select(Budget))}, reverse=True)
    return render_template(
        "budgets/finance.html",
        budgets=budgets,
        pacing=pacing,
        variances=ranked[:LARGEST],
        line_states=Counter(x.pace.state for x in lines),
        pending_lines=pending_lines,
        pending_moves=pending_moves,
        periods=periods,
    )


@bp.route("/export")
@require("budget.export")
def export_period():
    fmt = request.args.get("format", "csv")
    try:
        period = parse_period(request.args.get("period", ""))
    except PeriodError as exc:
        flash(str(exc), "error")
        return redirect(url_for("budgets.finance.dashboard"))
    if fmt not in ("csv", "xlsx"):
        flash("Choose CSV or XLSX.", "error")
        return redirect(url_for("budgets.finance.dashboard"))
    budgets = list(
        db.session.scalars(
            select(Budget).where(Budget.period == period.label).order_by(Budget.name)
        )
    )
    if not budgets:
        flash(f"No budget for {period.label}.", "warning")
        return redirect(url_for("budgets.finance.dashboard"))
    slug = "".join(ch if ch.isalnum() else "-" for ch in period.label)
    return export_response(budgets, fmt, slug)
