"""Allocation lines (request, edit, submit, withdraw, approve, reject), monthly phasing, the
split tool and reallocation requests. Every id from a URL or form goes through get_for."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from budgets import phasing as phasing_rules
from budgets import services, workflow
from budgets.forms import CHANNEL_CHOICES, LineForm, ReallocationForm
from budgets.models import AllocationLine, Budget, LineStatus, Reallocation
from budgets.periods import months_between
from budgets.phasing import SplitRow
from budgets.services import BudgetError
from campaigns.models import Campaign, CampaignStatus
from core.extensions import db
from core.models import Role
from core.money import Money
from core.permissions import can, get_for, require
from core.rules import check_more, show_problems

bp = Blueprint("lines", __name__)
BUDGET = "<int(max=2147483647):budget_id>"
LINE = "<int(max=2147483647):line_id>"
REQUEST = "<int(max=2147483647):request_id>"
SPLIT_ROWS = 6


def _back(budget_id: int):
    return redirect(url_for("budgets.detail", budget_id=budget_id))


def _error(form, exc: BudgetError) -> None:
    """Every problem beside its field; one that belongs to no field as a message above."""
    for message in show_problems(form, exc):
        flash(message, "error")


def campaign_choices(budget: Budget) -> dict[str, str]:
    """Campaigns this user may request for in this budget: same currency, flying in it."""
    stmt = (
        select(Campaign)
        .where(
            Campaign.currency == budget.currency,
            Campaign.status != CampaignStatus.ARCHIVED.value,
            Campaign.start_date <= budget.end_date,
            Campaign.end_date >= budget.start_date,
        )
        .order_by(Campaign.name)
    )
    if current_user.role == Role.MARKETER:
        stmt = stmt.where(Campaign.owner_id == current_user.id)
    return {str(c.id): f"{c.name} ({c.planned_budget})" for c in db.session.scalars(stmt)}


def _line_data(form: LineForm) -> dict:
    return {
        "campaign_id": form.campaign_id.data,
        "channel": form.channel.data,
        "planned": form.planned.data,
        "note": form.note.data,
    }


def _valid(form: LineForm, budget: Budget, line: AllocationLine | None) -> bool:
    """The form's validators passed; when they did not, the service's own input checks are
    shown too (campaign, amount…), so one post names every problem."""
    if form.validate_on_submit():
        return True
    if form.is_submitted():
        check_more(
            form,
            lambda: services.line_input(
                current_user,
                services.allowed(_line_data(form), services.LINE_FIELDS, current_user.role),
                current_user.role,
                budget.currency,
                line,
            ),
        )
    return False


@bp.route(f"/{BUDGET}/lines/new", methods=["GET", "POST"])
@require("budget.request")
def new_line(budget_id: int):
    budget = get_for(Budget, budget_id, "budget.request")
    if budget.is_closed:
        flash("This budget's period is closed: it is read-only.", "warning")
        return _back(budget.id)
    form = LineForm()
    form.campaign_id.choices = campaign_choices(budget)
    if request.method == "GET" and request.args.get("campaign_id"):
        form.campaign_id.data = request.args["campaign_id"]
    if _valid(form, budget, None):
        try:
            line = services.create_line(current_user, budget, _line_data(form), current_user.role)
            if request.form.get("action") == "submit":
                workflow.submit_line(current_user, line)
        except BudgetError as exc:
            db.session.rollback()
            _error(form, exc)
        else:
            db.session.commit()
            done = "submitted for approval" if line.status == "submitted" else "saved as a draft"
            flash(f"Allocation {line.planned} for “{line.campaign.name}” {done}.", "success")
            return _back(budget.id)
    status = 400 if request.method == "POST" else 200
    return render_template("budgets/line_form.html", form=form, budget=budget, line=None), status


@bp.route(f"/lines/{LINE}/edit", methods=["GET", "POST"])
@require("budget.request")
def edit_line(line_id: int):
    line = get_for(AllocationLine, line_id, "budget.request")
    budget = line.budget
    if line.status_enum not in services.EDITABLE_LINE_STATUSES or budget.is_closed:
        flash("Only draft, rejected or withdrawn lines can be edited.", "warning")
        return _back(budget.id)
    form = LineForm(obj=line)
    form.campaign_id.choices = campaign_choices(budget)
    if request.method == "GET":
        form.campaign_id.data = str(line.campaign_id)
        form.planned.data = str(line.planned.amount)
    if _valid(form, budget, line):
        try:
            services.update_line(
                current_user, line, _line_data(form), current_user.role, form.comment.data or ""
            )
            if request.form.get("action") == "submit":
                workflow.submit_line(current_user, line)
        except BudgetError as exc:
            db.session.rollback()
            _error(form, exc)
        else:
            db.session.commit()
            flash("Allocation line saved.", "success")
            return _back(budget.id)
    status = 400 if request.method == "POST" else 200
    return render_template("budgets/line_form.html", form=form, budget=budget, line=line), status


def _apply(obj, action, message: str, *args):
    """Run one workflow step on `obj`: commit and confirm, or roll back and say why, beside
    the row it is about (the page opens at that row)."""
    try:
        action(current_user, obj, *args)
    except BudgetError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        row = f"{'reallocation' if isinstance(obj, Reallocation) else 'line'}-{obj.id}"
        return redirect(
            url_for("budgets.detail", budget_id=obj.budget_id, refused=row, _anchor=row)
        )
    else:
        db.session.commit()
        flash(message, "success")
    return _back(obj.budget_id)


def _act(line_id: int, permission: str, action, message: str, *args):
    return _apply(get_for(AllocationLine, line_id, permission), action, message, *args)


@bp.route(f"/lines/{LINE}/submit", methods=["POST"])
@require("budget.request")
def submit_line(line_id: int):
    return _act(line_id, "budget.request", workflow.submit_line, "Sent to finance for approval.")


@bp.route(f"/lines/{LINE}/withdraw", methods=["POST"])
@require("budget.request")
def withdraw_line(line_id: int):
    return _act(line_id, "budget.request", workflow.withdraw_line, "Line withdrawn.")


@bp.route(f"/lines/{LINE}/approve", methods=["POST"])
@require("budget.approve")
def approve_line(line_id: int):
    return _act(
        line_id,
        "budget.approve",
        workflow.approve_line,
        "Allocation approved.",
        request.form.get("comment", ""),
    )


@bp.route(f"/lines/{LINE}/reject", methods=["POST"])
@require("budget.approve")
def reject_line(line_id: int):
    return _act(
        line_id,
        "budget.approve",
        workflow.reject_line,
        "Allocation rejected.",
        request.form.get("comment", ""),
    )


@bp.route(f"/lines/{LINE}/phasing", methods=["GET", "POST"])
@require("budget.request")
def phasing(line_id: int):
    line = get_for(AllocationLine, line_id, "budget.request")
    months = months_between(line.budget.start_date, line.budget.end_date)
    # After approval only finance re-phases (the plan's timing is part of what was approved).
    editable = not line.budget.is_closed and (
        line.status_enum in services.EDITABLE_LINE_STATUSES
        or (line.status_enum is LineStatus.APPROVED and can("budget.approve"))
    )
    values = {p.month: str(Money(p.planned_minor, line.currency).amount) for p in line.phases}
    mode = "amounts"
    error = None
    if request.method == "POST":
        mode = request.form.get("mode", "amounts")
        values = {m: request.form.get(f"month-{m:%Y-%m}", "") for m in months}
        if not editable:
            flash("This line's phasing cannot be changed now.", "error")
        else:
            try:
                phasing_rules.set_phasing(
                    line, mode, values, request.form.get("comment") or "", current_user
                )
            except BudgetError as exc:
                db.session.rollback()
                error = exc  # each problem shown above the months it is about
            else:
                db.session.commit()
                flash("Monthly phasing saved.", "success")
                return _back(line.budget_id)
    status = 400 if request.method == "POST" else 200
    return render_template(
        "budgets/phasing.html",
        line=line,
        months=months,
        values=values,
        mode=mode,
        editable=editable,
        default=phasing_rules.default_phasing(line),
        error=error,
    ), status


@bp.route(f"/{BUDGET}/split", methods=["GET", "POST"])
@require("budget.request")
def split_lines(budget_id: int):
    budget = get_for(Budget, budget_id, "budget.request")
    if budget.is_closed:
        flash("This budget's period is closed: it is read-only.", "warning")
        return _back(budget.id)
    choices = campaign_choices(budget)
    form = request.form
    rows = [
        SplitRow(
            form.get(f"campaign-{i}", ""), form.get(f"channel-{i}", ""), form.get(f"weight-{i}", "")
        )
        for i in range(SPLIT_ROWS)
    ]
    error = None
    if request.method == "POST":
        try:
            created = phasing_rules.split_into_lines(
                current_user,
                budget,
                form.get("amount", ""),
                form.get("mode", "weights"),
                rows,
                current_user.role,
            )
        except BudgetError as exc:
            db.session.rollback()
            error = exc  # shown beside the amount, or above the lines it is about
        else:
            db.session.commit()
            flash(f"{len(created)} draft line(s) created; submit them when ready.", "success")
            return _back(budget.id)
    status = 400 if request.method == "POST" else 200
    return render_template(
        "budgets/split.html",
        budget=budget,
        rows=rows,
        choices=choices,
        channels=CHANNEL_CHOICES,
        form=form,
        error=error,
    ), status


# --- reallocations ------------------------------------------------------------------------------


def _line_choices(budget: Budget) -> dict[str, str]:
    return {
        str(x.id): f"#{x.id} {x.campaign.name} × {x.channel_label} ({x.planned})"
        for x in budget.lines
        if x.status_enum is LineStatus.APPROVED and can("budget.request", x)
    }


@bp.route(f"/{BUDGET}/reallocations/new", methods=["GET", "POST"])
@require("budget.request")
def new_reallocation(budget_id: int):
    budget = get_for(Budget, budget_id, "budget.request")
    if budget.is_closed:
        flash("This budget's period is closed: it is read-only.", "warning")
        return _back(budget.id)
    form = ReallocationForm()
    form.from_line_id.choices = form.to_line_id.choices = _line_choices(budget)
    valid = form.validate_on_submit()
    if form.is_submitted() and not valid:  # show the amount's problems beside the reason's
        check_more(
            form,
            lambda: workflow.check_reallocation_input(
                budget, form.amount.data or "", form.reason.data or ""
            ),
        )
    if valid:
        try:
            source = get_for(AllocationLine, _id(form.from_line_id.data), "budget.request")
            target = get_for(AllocationLine, _id(form.to_line_id.data), "budget.request")
            workflow.request_reallocation(
                current_user, budget, source, target, form.amount.data, form.reason.data
            )
        except BudgetError as exc:
            db.session.rollback()
            _error(form, exc)
        else:
            db.session.commit()
            flash("Reallocation requested: finance will decide.", "success")
            return _back(budget.id)
    status = 400 if request.method == "POST" else 200
    return render_template("budgets/reallocation_form.html", form=form, budget=budget), status


def _id(value) -> int:
    text = str(value or "")
    return int(text) if text.isdigit() and len(text) < 10 else 0


def _decide_request(request_id: int, action, message: str):
    move = get_for(Reallocation, request_id, "budget.approve")
    return _apply(move, action, message, request.form.get("comment", ""))


@bp.route(f"/reallocations/{REQUEST}/approve", methods=["POST"])
@require("budget.approve")
def approve_reallocation(request_id: int):
    return _decide_request(request_id, workflow.approve_reallocation, "Reallocation approved.")


@bp.route(f"/reallocations/{REQUEST}/reject", methods=["POST"])
@require("budget.approve")
def reject_reallocation(request_id: int):
    return _decide_request(request_id, workflow.reject_reallocation, "Reallocation rejected.")
