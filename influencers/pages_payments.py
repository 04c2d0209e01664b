"""Promo codes and payment milestones of a partnership (add, remove, pay). Registered on the
blueprint by influencers.views.

A refused form renders the partnership page again (400) with the message beside its field and
what was typed kept, like the deliverable forms; nothing is saved."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, redirect, url_for
from flask_login import current_user

from campaigns.services import parse_number
from core.extensions import db
from core.permissions import get_for, require
from core.rules import show_problems
from influencers import partnerships as deals
from influencers import payments
from influencers.forms import MilestoneForm, PayForm, PromoCodeForm
from influencers.models import Partnership, PaymentMilestone
from influencers.pages_partnerships import PARTNERSHIP, partnership_page
from influencers.services import InfluencerError

ROUTES: list[tuple[str, Callable[..., Any], dict[str, Any]]] = []
MILESTONE = "<int(max=2147483647):milestone_id>"
# Service error fields that are not the form's own field names.
FIELD_NAMES = {"promo_code": "code", "deliverable": "deliverable_id"}


def route(rule: str, **options: Any):
    def decorator(view):
        ROUTES.append((rule, view, options))
        return view

    return decorator


def _back(p: Partnership):
    return redirect(url_for("influencers.partnership_detail", partnership_id=p.id))


def _refuse(form, field_name: str, message: str) -> None:
    """Put `message` beside the form's field `field_name` (a form-wide one: `form_errors`)."""
    _refuse_all(form, InfluencerError(message, field_name))


def _refuse_all(form, exc: InfluencerError) -> None:
    """Every problem beside its field (a form-wide one: `form_errors`)."""
    form.form_errors.extend(show_problems(form, exc, names=FIELD_NAMES))


def _save(form, action: Callable[[], Any], success: str) -> bool:
    """Run the service call: commit and flash `success`, or roll back and show the refusal."""
    try:
        action()
    except InfluencerError as exc:
        db.session.rollback()
        _refuse_all(form, exc)
        return False
    db.session.commit()
    flash(success, "success")
    return True


def _first_errors(form) -> None:
    """Keep one message per field: WTForms may stack several for one bad value."""
    for field in form:
        if field.errors:
            field.errors = list(field.errors)[:1]


@route(f"/partnerships/{PARTNERSHIP}/promo-code", methods=["POST"])
@require("partnership.edit")
def promo_code(partnership_id: int):
    p = get_for(Partnership, partnership_id, "partnership.edit")
    form = PromoCodeForm()
    if form.validate():
        code = (form.code.data or "").strip()
        if _save(form, lambda: deals.set_promo_code(p, code), "Promo code saved."):
            return _back(p)
    _first_errors(form)
    return partnership_page(p, promo_form=form)


@route(f"/partnerships/{PARTNERSHIP}/milestones", methods=["POST"])
@require("payment.manage")
def milestone_add(partnership_id: int):
    p = get_for(Partnership, partnership_id, "payment.manage")
    form = MilestoneForm()
    form.deliverable_id.choices = {str(d.id): str(d) for d in p.deliverables}
    if form.validate():
        share = parse_number(form.share.data)
        if share is None or not 0 < share <= 100 or share.as_tuple().exponent < -2:
            _refuse(form, "share", "Enter the share as a percentage, e.g. 50 or 33.33.")
        else:
            deliverable = form.deliverable_id.data or ""
            added = _save(
                form,
                lambda: payments.add_milestone(
                    p,
                    form.label.data,
                    int(share * 100),
                    form.condition.data,
                    int(deliverable) if deliverable.isdigit() and len(deliverable) < 10 else None,
                ),
                "Milestone added.",
            )
            if added:
                return _back(p)
    _first_errors(form)
    return partnership_page(p, milestone_form=form)


@route(f"/milestones/{MILESTONE}/delete", methods=["POST"])
@require("payment.manage")
def milestone_delete(milestone_id: int):
    m = get_for(PaymentMilestone, milestone_id, "payment.manage")
    p = m.partnership
    try:
        payments.remove_milestone(m)
    except InfluencerError as exc:  # a button, not a form: the reason shows as a message
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash("Milestone removed.", "success")
    return _back(p)


@route(f"/milestones/{MILESTONE}/pay", methods=["POST"])
@require("payment.manage")
def milestone_pay(milestone_id: int):
    m = get_for(PaymentMilestone, milestone_id, "payment.manage")
    p = m.partnership
    form = PayForm()
    if not form.validate():
        if form.paid_on.errors:
            form.paid_on.errors = ["Enter the payment date like 2026-03-01."]
    else:
        label = m.label
        paid = _save(
            form,
            lambda: payments.pay(m, form.paid_on.data, form.reference.data or "", current_user),
            f"“{label}” marked paid.",
        )
        if paid:
            return _back(p)
    _first_errors(form)
    return partnership_page(p, pay_form=form, pay_for=milestone_id)
