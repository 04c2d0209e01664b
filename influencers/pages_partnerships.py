"""Partnership pages: coordinator dashboard, list, per-campaign pipeline, terms, status,
promo codes and payment milestones. Registered on the blueprint by influencers.views."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import case, select
from sqlalchemy.orm import selectinload

from campaigns.models import Campaign, CampaignStatus
from core.audit import history_for
from core.extensions import db
from core.models import Role, User
from core.money import Money, MoneyError
from core.params import id_arg, page_arg
from core.permissions import can, get_for, require
from core.rules import show_problems
from influencers import partnerships as deals
from influencers import workflow
from influencers.forms import MilestoneForm, PartnershipForm, PayForm, PromoCodeForm
from influencers.models import (
    COMMITTED_STATUSES,
    Influencer,
    InfluencerStatus,
    MilestoneStatus,
    Partnership,
    PartnershipStatus,
    PaymentMilestone,
)
from influencers.reporting import partnership_roi
from influencers.services import InfluencerError

ROUTES: list[tuple[str, Callable[..., Any], dict[str, Any]]] = []
PARTNERSHIP = "<int(max=2147483647):partnership_id>"
CAMPAIGN = "<int(max=2147483647):campaign_id>"


def route(rule: str, **options: Any):
    def decorator(view):
        ROUTES.append((rule, view, options))
        return view

    return decorator


@route("/dashboard")
@require("influencer.view")
def dashboard():
    return render_template("influencers/dashboard.html", buckets=workflow.dashboard())


@route("/partnerships")
@require("partnership.view")
def partnerships():
    status = request.args.get("status", "")
    status = status if status in set(PartnershipStatus) else ""
    campaign_id = id_arg("campaign")
    stmt = (
        select(Partnership)
        .options(selectinload(Partnership.deliverables))
        .order_by(Partnership.updated_at.desc(), Partnership.id.desc())
    )
    if status:
        stmt = stmt.where(Partnership.status == status)
    if campaign_id:
        stmt = stmt.where(Partnership.campaign_id == campaign_id)
    if request.args.get("mine") and current_user.role != Role.VIEWER:
        stmt = stmt.where(Partnership.owner_id == current_user.id)
    page = db.paginate(stmt, page=page_arg(), per_page=25, error_out=False)
    return render_template(
        "influencers/partnerships.html",
        page=page,
        status=status,
        campaign_id=campaign_id,
        statuses=list(PartnershipStatus),
        campaigns=_campaigns(open_only=False),
    )


def _campaigns(open_only: bool = True) -> list[Campaign]:
    stmt = select(Campaign).order_by(Campaign.name)
    if open_only:
        closed = (CampaignStatus.COMPLETED.value, CampaignStatus.ARCHIVED.value)
        stmt = stmt.where(Campaign.status.not_in(closed))
    return list(db.session.scalars(stmt))


def budget_lines(campaign: Campaign) -> list[dict[str, Any]]:
    """Per currency: contracted fees, the approved influencer allocation and what is left."""
    from budgets import api as budgets_api

    committed = {m.currency: m for m in deals.committed_total(campaign.id)}
    lines = []
    for currency in sorted(set(committed) | {campaign.currency}):
        allocation = budgets_api.influencer_allocation(campaign.id, currency)
        used = committed.get(currency, Money.zero(currency))
        left = allocation - used if allocation is not None else None
        lines.append({"currency": currency, "committed": used, "allocation": allocation})
        lines[-1]["left"] = left
    return lines


@route(f"/campaigns/{CAMPAIGN}/pipeline")
@require("partnership.view")
def pipeline(campaign_id: int):
    campaign = get_for(Campaign, campaign_id, "partnership.view")
    rows = db.session.scalars(
        select(Partnership)
        .where(Partnership.campaign_id == campaign.id)
        .order_by(Partnership.updated_at.desc())
    ).all()
    columns = {s: [p for p in rows if p.status == s.value] for s in PartnershipStatus}
    return render_template(
        "influencers/pipeline.html",
        campaign=campaign,
        columns=columns,
        budget=budget_lines(campaign),
    )


def _owner_choices() -> dict[int, str]:
    users = db.session.scalars(
        select(User)
        .where(User.active.is_(True), User.role.in_(deals.OWNER_ROLES))
        .order_by(User.name)
    )
    return {u.id: f"{u.name} ({u.role})" for u in users}


def _terms(form: PartnershipForm) -> dict[str, Any]:
    data: dict[str, Any] = {
        "payment_terms": (form.payment_terms.data or "").strip(),
        "usage_rights": (form.usage_rights.data or "").strip(),
        "exclusivity_days": form.exclusivity_days.data or 0,
        "start_date": form.start_date.data,
        "end_date": form.end_date.data,
        "notes": (form.notes.data or "").strip(),
    }
    try:
        data["fee"] = Money.of(form.fee.data or "", form.currency.data)
    except MoneyError as exc:
        raise InfluencerError(str(exc), "fee") from None
    if current_user.role == Role.ADMIN:
        data["owner_id"] = form.owner_id.data
    return data


def _show(form, exc: InfluencerError, default: str = "fee") -> None:
    show_problems(form, exc, default)


@route("/partnerships/new", methods=["GET", "POST"])
@require("partnership.edit")
def partnership_new():
    form = PartnershipForm()
    chosen = id_arg("influencer_id") or (form.influencer_id.data if form.is_submitted() else None)
    influencers = select(Influencer).where(Influencer.status == InfluencerStatus.ACTIVE.value)
    if isinstance(chosen, int) and 0 < chosen < 2**31:
        influencers = influencers.where(Influencer.id == chosen)
    people = list(db.session.scalars(influencers.order_by(Influencer.name).limit(1000)))
    form.influencer_id.choices = {0: "— choose an influencer —"} | {i.id: i.name for i in people}
    campaigns = _campaigns()
    form.campaign_id.choices = {0: "— choose a campaign —"} | {c.id: c.name for c in campaigns}
    form.owner_id.choices = _owner_choices()
    if request.method == "GET":
        form.influencer_id.data = chosen
        form.campaign_id.data = id_arg("campaign_id")
        form.owner_id.data = current_user.id
        picked = next((c for c in campaigns if c.id == form.campaign_id.data), None)
        if picked is not None:
            form.currency.data = picked.currency
    if form.validate_on_submit():
        try:
            influencer = _chosen(Influencer, form.influencer_id, "influencer.view")
            campaign = _chosen(Campaign, form.campaign_id, "partnership.view")
            p = deals.create_partnership(
                current_user, influencer, campaign, _terms(form), form.plan.data
            )
        except InfluencerError as exc:
            db.session.rollback()
            _show(form, exc)
        else:
            db.session.commit()
            flash(f"Partnership {p} created as a prospect.", "success")
            return redirect(url_for("influencers.partnership_detail", partnership_id=p.id))
    status = 400 if request.method == "POST" else 200
    rates = people[0].rates if len(people) == 1 else []
    fee_hint = "Rate card: " + " · ".join(
        f"{r.deliverable_type.replace('_', ' ')} {r.amount}" for r in rates
    )
    page = render_template(
        "influencers/partnership_form.html",
        form=form,
        partnership=None,
        fee_hint=fee_hint if rates else "",
    )
    return page, status


def _chosen(model, field, permission: str):
    """An id picked in a form: a field error when it does not exist, get_for otherwise."""
    value = field.data
    if not isinstance(value, int) or not 0 < value < 2**31 or db.session.get(model, value) is None:
        what = {"influencer_id": "an influencer", "campaign_id": "an open campaign"}[field.name]
        raise InfluencerError(f"Choose {what} from the list.", field.name)
    return get_for(model, value, permission)


@route(f"/partnerships/{PARTNERSHIP}")
@require("partnership.view")
def partnership_detail(partnership_id: int):
    return partnership_page(get_for(Partnership, partnership_id, "partnership.view"))


def partnership_page(
    p: Partnership,
    *,
    promo_form: PromoCodeForm | None = None,
    milestone_form: MilestoneForm | None = None,
    pay_form: PayForm | None = None,
    pay_for: int | None = None,
):
    """The partnership page; after a refused promo code, milestone or payment it is rendered
    again (400) with the message beside the field and the typed values kept (`pay_for`: the
    milestone whose payment was refused)."""
    if milestone_form is None:
        milestone_form = MilestoneForm(formdata=None)
        milestone_form.deliverable_id.choices = {str(d.id): str(d) for d in p.deliverables}
    page = render_template(
        "influencers/partnership.html",
        p=p,
        transitions=deals.allowed_transitions(p),
        action_labels=deals.ACTION_LABELS,
        budget=budget_lines(p.campaign),
        roi=partnership_roi(p),
        promo_form=promo_form or PromoCodeForm(formdata=None),
        milestone_form=milestone_form,
        pay_form=pay_form or PayForm(formdata=None),
        pay_for=pay_for,
        history=history_for(p, limit=20) if can("audit.view") else [],
    )
    failed = promo_form is not None or milestone_form.errors or pay_form is not None
    return page, 400 if failed else 200


@route(f"/partnerships/{PARTNERSHIP}/edit", methods=["GET", "POST"])
@require("partnership.edit")
def partnership_edit(partnership_id: int):
    p = get_for(Partnership, partnership_id, "partnership.edit")
    form = PartnershipForm(obj=p)
    # The payment plan is chosen once, at creation (milestones are edited on the partnership
    # page): the terms page has no such field, so it must not be validated.
    del form.plan
    form.owner_id.choices = _owner_choices()
    if request.method == "GET":
        form.fee.data = str(p.fee.amount)
    if form.validate_on_submit():
        try:
            deals.apply_terms(p, _terms(form), current_user.role)
        except InfluencerError as exc:
            db.session.rollback()
            _show(form, exc)
        else:
            db.session.commit()
            flash("Terms saved.", "success")
            return redirect(url_for("influencers.partnership_detail", partnership_id=p.id))
    status = 400 if request.method == "POST" else 200
    return render_template("influencers/partnership_form.html", form=form, partnership=p), status


def _back(p: Partnership):
    return redirect(url_for("influencers.partnership_detail", partnership_id=p.id))


def _attempt(action: Callable[[], Any], success: str) -> None:
    try:
        action()
    except InfluencerError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(success, "success")


@route(f"/partnerships/{PARTNERSHIP}/status", methods=["POST"])
@require("partnership.edit")
def partnership_status(partnership_id: int):
    p = get_for(Partnership, partnership_id, "partnership.edit")
    to = request.form.get("to", "")[:20]
    _attempt(lambda: deals.transition(p, to), f"{p} is now {to}.")
    return _back(p)


@route("/payments")
@require("payment.view")
def payment_list():
    status = request.args.get("status", "")
    status = status if status in set(MilestoneStatus) else ""
    # Payable first (what to release now), then pending, then paid.
    order = case({"payable": 0, "pending": 1}, value=PaymentMilestone.status, else_=2)
    # Contracted money only: a prospect's draft plan is not a payment anyone owes yet.
    stmt = (
        select(PaymentMilestone)
        .join(Partnership)
        .where(
            Partnership.status.in_(COMMITTED_STATUSES)
            | (PaymentMilestone.status == MilestoneStatus.PAID.value)
        )
        .order_by(order, PaymentMilestone.due_date, PaymentMilestone.id)
    )
    if status:
        stmt = stmt.where(PaymentMilestone.status == status)
    page = db.paginate(stmt, page=page_arg(), per_page=50, error_out=False)
    response = make_response(
        render_template(
            "influencers/payments.html", page=page, status=status, statuses=list(MilestoneStatus)
        )
    )
    response.headers["Cache-Control"] = "no-store"  # money owed to people: never cached
    return response
