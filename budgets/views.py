"""Budget pages: list, create/edit, detail with pacing, close a period, history, exports,
approvals inbox. Lines and reallocations, FX rates and the finance dashboard are nested
blueprints (budgets/views_lines.py, views_fx.py, views_finance.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select

from budgets import services, workflow
from budgets.downloads import export_response
from budgets.forms import BudgetForm
from budgets.models import (
    AllocationLine,
    Budget,
    BudgetStatus,
    LineStatus,
    Notification,
    Reallocation,
    RequestStatus,
)
from budgets.overview import budget_history, budget_overview, budgets_pacing, visible_lines
from budgets.rules import RULES
from budgets.services import BudgetError
from budgets.views_finance import bp as finance_bp
from budgets.views_fx import bp as fx_bp
from budgets.views_lines import bp as lines_bp
from core.extensions import db
from core.permissions import OBJECT_RULES, can, get_for, require
from core.rules import check_more, show_problems

bp = Blueprint("budgets", __name__, url_prefix="/budgets")
bp.register_blueprint(lines_bp)
bp.register_blueprint(fx_bp)
bp.register_blueprint(finance_bp)
BUDGET = "<int(max=2147483647):budget_id>"


@bp.record_once
def _register_rules(state) -> None:
    OBJECT_RULES.update(RULES)


@bp.app_context_processor
def _inbox_badge():
    def budget_unread() -> int:
        if not current_user.is_authenticated or not can("budget.view"):
            return 0
        return workflow.unread_count(current_user.id)

    return {"budget_unread": budget_unread}


def today():
    return datetime.now(UTC).date()


def show_error(form, exc: BudgetError) -> None:
    """Every problem beside its field; one that belongs to no field as a message above."""
    for message in show_problems(form, exc):
        flash(message, "error")


@bp.route("/")
@require("budget.view")
def index():
    status = request.args.get("status", "open")
    stmt = select(Budget).order_by(Budget.start_date.desc(), Budget.name)
    if status in set(BudgetStatus):
        stmt = stmt.where(Budget.status == status)
    budgets = list(db.session.scalars(stmt.limit(200)))
    full = can("finance.view")
    return render_template(
        "budgets/list.html",
        budgets=budgets,
        status=status,
        pacing=budgets_pacing(budgets, today()) if full else {},
        full=full,
        visible={b.id: visible_lines(b, current_user) for b in budgets},
    )


def _budget_data(form: BudgetForm) -> dict:
    return {
        "name": form.name.data,
        "period": form.period.data,
        "currency": form.currency.data,
        "total": form.total.data,
        "under_pct": form.under_pct.data,
        "over_pct": form.over_pct.data,
    }


def _valid(form: BudgetForm, currency: str) -> bool:
    """The form's validators passed; when they did not, the service's own field checks are
    shown too, so one post names every problem."""
    if form.validate_on_submit():
        return True
    if form.is_submitted():
        data = _budget_data(form)
        check_more(form, lambda: services.check_budget_input(data, current_user.role, currency))
    return False


@bp.route("/new", methods=["GET", "POST"])
@require("budget.manage")
def create():
    form = BudgetForm()
    if _valid(form, form.currency.data or ""):
        try:
            budget = services.create_budget(current_user, _budget_data(form), current_user.role)
        except BudgetError as exc:
            db.session.rollback()
            show_error(form, exc)
        else:
            db.session.commit()
            flash(f"Budget “{budget.name}” created. Marketers can now request lines.", "success")
            return redirect(url_for("budgets.detail", budget_id=budget.id))
    status = 400 if request.method == "POST" else 200
    return render_template("budgets/form.html", form=form, budget=None), status


@bp.route(f"/{BUDGET}")
@require("budget.view")
def detail(budget_id: int):
    budget = get_for(Budget, budget_id, "budget.view")
    return render_template(
        "budgets/detail.html",
        budget=budget,
        view=budget_overview(budget, current_user, today()),
        today=today(),
        LineStatus=LineStatus,
        RequestStatus=RequestStatus,
    )


@bp.route(f"/{BUDGET}/edit", methods=["GET", "POST"])
@require("budget.manage")
def edit(budget_id: int):
    budget = get_for(Budget, budget_id, "budget.manage")
    if budget.is_closed:
        flash("This budget's period is closed: it is read-only.", "warning")
        return redirect(url_for("budgets.detail", budget_id=budget.id))
    form = BudgetForm(obj=budget)
    if request.method == "GET":
        form.total.data = str(budget.total.amount)
        form.under_pct.data, form.over_pct.data = str(budget.under_pct), str(budget.over_pct)
    if _valid(form, budget.currency):
        try:
            services.apply_budget(
                budget, _budget_data(form), current_user.role, form.comment.data or "Budget edited"
            )
        except BudgetError as exc:
            db.session.rollback()
            show_error(form, exc)
        else:
            db.session.commit()
            flash("Budget saved.", "success")
            return redirect(url_for("budgets.detail", budget_id=budget.id))
    status = 400 if request.method == "POST" else 200
    return render_template("budgets/form.html", form=form, budget=budget), status


@bp.route(f"/{BUDGET}/close", methods=["POST"])
@require("budget.manage")
def close(budget_id: int):
    budget = get_for(Budget, budget_id, "budget.manage")
    try:
        workflow.close_budget(current_user, budget, today())
    except BudgetError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(f"“{budget.name}” is closed: its lines and FX rates are locked.", "success")
    return redirect(url_for("budgets.detail", budget_id=budget_id))


@bp.route(f"/{BUDGET}/history")
@require("audit.view")
def history(budget_id: int):
    budget = get_for(Budget, budget_id, "budget.view")
    return render_template("budgets/history.html", budget=budget, history=budget_history(budget))


@bp.route(f"/{BUDGET}/export")
@require("budget.export")
def export(budget_id: int):
    budget = get_for(Budget, budget_id, "budget.export")
    fmt = request.args.get("format", "csv")
    if fmt not in ("csv", "xlsx"):
        abort(404)
    slug = "".join(ch if ch.isalnum() else "-" for ch in budget.period)
    return export_response([budget], fmt, f"{budget.id}-{slug}")


@bp.route("/approvals")
@require("budget.view")
def approvals():
    pending_lines, pending_moves = [], []
    if can("budget.approve"):
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
    mine = list(
        db.session.scalars(
            select(AllocationLine)
            .where(AllocationLine.requested_by_id == current_user.id)
            .order_by(AllocationLine.updated_at.desc())
            .limit(50)
        )
    )
    notices = list(
        db.session.scalars(
            select(Notification)
            .where(Notification.user_id == current_user.id)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(50)
        )
    )
    return render_template(
        "budgets/approvals.html",
        pending_lines=pending_lines,
        pending_moves=pending_moves,
        mine=mine,
        notices=notices,
    )


@bp.route("/notifications/read", methods=["POST"])
@require("budget.view")
def notifications_read():
    workflow.mark_read(current_user.id)
    db.session.commit()
    return redirect(url_for("budgets.approvals"))
