"""Campaign pages: list, detail, create/edit, status changes, goals, calendar."""

from __future__ import annotations

import calendar as cal
from datetime import date, timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from campaigns import services
from campaigns.forms import CampaignForm, GoalForm
from campaigns.metrics import METRICS
from campaigns.models import Campaign, CampaignStatus, Channel, Goal
from campaigns.services import CampaignError, CampaignQuery, GoalInput
from core.audit import history_for
from core.extensions import db
from core.models import Role, User
from core.params import id_arg, page_arg
from core.permissions import can, get_for, require
from core.rules import show_problems

bp = Blueprint("campaigns", __name__, url_prefix="/campaigns")
# Ids beyond a 32-bit INTEGER cannot exist: such URLs 404 instead of overflowing the driver.
CAMPAIGN = "<int(max=2147483647):campaign_id>"
GOAL = "<int(max=2147483647):goal_id>"


def _owner_choices(roles: tuple[str, ...] = ("marketer", "admin")) -> list[tuple[int, str]]:
    users = db.session.scalars(
        select(User).where(User.active.is_(True), User.role.in_(roles)).order_by(User.name)
    )
    return [(u.id, f"{u.name} ({u.role})") for u in users]


def _parse_date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


@bp.route("/")
@require("campaign.view")
def index():
    args = request.args
    query = CampaignQuery(
        q=args.get("q", "")[:100],
        status=args.get("status", "") if args.get("status") in set(CampaignStatus) else "",
        channel=args.get("channel", "") if args.get("channel") in set(Channel) else "",
        owner_id=id_arg("owner"),
        date_from=_parse_date(args.get("from")),
        date_to=_parse_date(args.get("to")),
        sort=args.get("sort", "start") if args.get("sort") in services.SORTS else "start",
        desc=args.get("dir") == "desc",
    )
    page = db.paginate(services.search(query), page=page_arg(), per_page=20, error_out=False)
    return render_template(
        "campaigns/list.html",
        page=page,
        query=query,
        statuses=list(CampaignStatus),
        channels=list(Channel),
        owners=_owner_choices(),
    )


def _form_data(form: CampaignForm) -> dict:
    data = {
        "name": form.name.data.strip(),
        "objective": form.objective.data,
        "channels": form.channels.data or [],
        "brand": (form.brand.data or "").strip(),
        "product": (form.product.data or "").strip(),
        "description": (form.description.data or "").strip(),
        "start_date": form.start_date.data,
        "end_date": form.end_date.data,
        "currency": form.currency.data,
        "planned_budget": services.money_from_form(form.planned_budget.data, form.currency.data),
    }
    if current_user.role == Role.ADMIN:
        data["owner_id"] = form.owner_id.data
    return data


def _show_error(form, exc: CampaignError) -> None:
    db.session.rollback()  # nothing half-applied stays, and the campaign's lock is let go
    show_problems(form, exc, "name")


@bp.route("/new", methods=["GET", "POST"])
@require("campaign.create")
def create():
    form = CampaignForm()
    form.owner_id.choices = dict(_owner_choices())
    if request.method == "GET":
        form.owner_id.data = current_user.id
        form.channels.data = ["meta_ads"]
    if form.validate_on_submit():
        try:
            campaign = services.create_campaign(current_user, _form_data(form), current_user.role)
        except CampaignError as exc:
            _show_error(form, exc)
        else:
            db.session.commit()
            flash(
                f"Campaign “{campaign.name}” created as a draft. Add a SMART goal next.", "success"
            )
            return redirect(url_for("campaigns.detail", campaign_id=campaign.id))
    status = 400 if request.method == "POST" else 200
    return render_template("campaigns/form.html", form=form, campaign=None), status


@bp.route(f"/{CAMPAIGN}")
@require("campaign.view")
def detail(campaign_id: int):
    campaign = get_for(Campaign, campaign_id, "campaign.view")
    return render_template(
        "campaigns/detail.html",
        campaign=campaign,
        metrics=METRICS,
        transitions=services.allowed_transitions(campaign),
        action_labels=services.ACTION_LABELS,
        history=history_for(campaign, limit=20) if can("audit.view") else [],
    )


@bp.route(f"/{CAMPAIGN}/edit", methods=["GET", "POST"])
@require("campaign.edit")
def edit(campaign_id: int):
    campaign = get_for(Campaign, campaign_id, "campaign.edit")
    if campaign.status_enum is CampaignStatus.ARCHIVED:
        flash("Archived campaigns are read-only.", "warning")
        return redirect(url_for("campaigns.detail", campaign_id=campaign.id))
    form = CampaignForm(obj=campaign)
    form.owner_id.choices = dict(_owner_choices())
    if request.method == "GET":
        form.planned_budget.data = str(campaign.planned_budget.amount)
        form.channels.data = campaign.channels
    if form.validate_on_submit():
        try:
            services.apply_campaign(campaign, _form_data(form), current_user.role)
        except CampaignError as exc:
            _show_error(form, exc)
        else:
            db.session.commit()
            flash("Campaign saved.", "success")
            return redirect(url_for("campaigns.detail", campaign_id=campaign.id))
    status = 400 if request.method == "POST" else 200
    return render_template("campaigns/form.html", form=form, campaign=campaign), status


@bp.route(f"/{CAMPAIGN}/status", methods=["POST"])
@require("campaign.transition")
def change_status(campaign_id: int):
    campaign = get_for(Campaign, campaign_id, "campaign.transition")
    try:
        services.transition(campaign, request.form.get("to", ""))
    except CampaignError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(f"“{campaign.name}” is now {campaign.status}.", "success")
    return redirect(url_for("campaigns.detail", campaign_id=campaign.id))


def _goal_form(campaign: Campaign, goal: Goal | None):
    form = GoalForm(obj=goal)
    form.owner_id.choices = dict(_owner_choices(("marketer", "admin", "coordinator", "finance")))
    if request.method == "GET":
        if goal is None:
            form.owner_id.data = current_user.id
            form.deadline.data = campaign.end_date
            form.baseline.data = "0"
        else:
            form.baseline.data = _plain(goal.baseline)
            form.target.data = _plain(goal.target)
            form.channel.data = goal.channel or ""
    if form.validate_on_submit():
        data = GoalInput(
            metric=form.metric.data,
            direction=form.direction.data,
            baseline=form.baseline.data,
            target=form.target.data,
            deadline=form.deadline.data,
            owner_id=form.owner_id.data,
            channel=form.channel.data or None,
            notes=form.notes.data or "",
        )
        errors, _ = services.goal_errors(campaign, data)
        if not errors:
            saved = services.save_goal(campaign, data, goal)
            db.session.commit()
            flash(f"Goal saved: {saved}.", "success")
            return redirect(url_for("campaigns.detail", campaign_id=campaign.id))
        for field, message in errors.items():
            getattr(form, field).errors = [*getattr(form, field).errors, message]
    status = 400 if request.method == "POST" else 200
    page = render_template(
        "campaigns/goal_form.html", form=form, campaign=campaign, goal=goal, metrics=METRICS
    )
    return page, status


def _plain(value) -> str:
    return format(value.normalize(), "f") if value is not None else ""


def _editable_campaign(campaign_id: int) -> Campaign:
    campaign = get_for(Campaign, campaign_id, "goal.edit")
    if campaign.status_enum in (CampaignStatus.ARCHIVED, CampaignStatus.COMPLETED):
        abort(409, description="Goals of a completed or archived campaign are frozen.")
    return campaign


@bp.route(f"/{CAMPAIGN}/goals/new", methods=["GET", "POST"])
@require("goal.edit")
def goal_new(campaign_id: int):
    campaign = _editable_campaign(campaign_id)
    return _goal_form(campaign, None)


@bp.route(f"/{CAMPAIGN}/goals/{GOAL}/edit", methods=["GET", "POST"])
@require("goal.edit")
def goal_edit(campaign_id: int, goal_id: int):
    campaign = _editable_campaign(campaign_id)
    goal = db.session.get(Goal, goal_id)
    if goal is None or goal.campaign_id != campaign.id:
        abort(404)
    return _goal_form(campaign, goal)


@bp.route(f"/{CAMPAIGN}/goals/{GOAL}/delete", methods=["POST"])
@require("goal.edit")
def goal_delete(campaign_id: int, goal_id: int):
    campaign = _editable_campaign(campaign_id)
    goal = db.session.get(Goal, goal_id)
    if goal is None or goal.campaign_id != campaign.id:
        abort(404)
    if (
        campaign.status_enum in (CampaignStatus.ACTIVE, CampaignStatus.PAUSED)
        and len(campaign.goals) == 1
    ):
        flash("A running campaign keeps at least one goal.", "error")
    else:
        db.session.delete(goal)
        db.session.commit()
        flash("Goal removed.", "success")
    return redirect(url_for("campaigns.detail", campaign_id=campaign.id))


@bp.route("/calendar")
@require("campaign.view")
def calendar():
    today = date.today()
    month_text = request.args.get("month", "")
    try:
        year, month = (
            (int(part) for part in month_text.split("-"))
            if month_text
            else (
                today.year,
                today.month,
            )
        )
        if not 1 < year < 9999:  # keep the previous and next months representable
            raise ValueError(year)
        first = date(year, month, 1)
    except ValueError:
        first = today.replace(day=1)
    weeks = cal.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month)
    campaigns = services.campaigns_in_month(first.year, first.month)
    from influencers.workflow import deliverables_in_month

    deliverables = deliverables_in_month(first.year, first.month)
    prev_month = (first - timedelta(days=1)).replace(day=1)
    next_month = (first + timedelta(days=32)).replace(day=1)
    return render_template(
        "campaigns/calendar.html",
        first=first,
        weeks=weeks,
        campaigns=campaigns,
        deliverables=deliverables,
        prev_month=prev_month,
        next_month=next_month,
        today=today,
    )
