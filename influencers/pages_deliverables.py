"""Deliverable pages (steps, metrics, tracking links), the orders and metrics CSV imports and
the influencer ROI report. Registered on the blueprint by influencers.views."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from campaigns.models import Campaign
from core.audit import history_for
from core.extensions import db
from core.params import id_arg
from core.permissions import can, get_for, require
from core.rules import show_problems
from influencers import reporting, workflow
from influencers.forms import DeliverableForm, MetricsForm, StepForm, TrackingForm
from influencers.models import METRIC_FIELDS, Deliverable, Partnership
from influencers.services import InfluencerError

ROUTES: list[tuple[str, Callable[..., Any], dict[str, Any]]] = []
PARTNERSHIP = "<int(max=2147483647):partnership_id>"
DELIVERABLE = "<int(max=2147483647):deliverable_id>"


def route(rule: str, **options: Any):
    def decorator(view):
        ROUTES.append((rule, view, options))
        return view

    return decorator


def _show(form, exc: InfluencerError, default: str) -> None:
    show_problems(form, exc, default)


def _deliverable_page(form: DeliverableForm, p: Partnership, d: Deliverable | None):
    if form.validate_on_submit():
        data = {
            "type": form.type.data,
            "platform": form.platform.data,
            "due_date": form.due_date.data,
            "title": form.title.data,
        }
        try:
            saved = workflow.save_deliverable(p, data, d)
        except InfluencerError as exc:
            db.session.rollback()
            _show(form, exc, "type")
        else:
            db.session.commit()
            flash(f"Deliverable saved: {saved}, due {saved.due_date:%d %b %Y}.", "success")
            return redirect(url_for("influencers.deliverable_detail", deliverable_id=saved.id))
    status = 400 if request.method == "POST" else 200
    page = render_template("influencers/deliverable_form.html", form=form, p=p, d=d)
    return page, status


@route(f"/partnerships/{PARTNERSHIP}/deliverables/new", methods=["GET", "POST"])
@require("deliverable.edit")
def deliverable_new(partnership_id: int):
    p = get_for(Partnership, partnership_id, "deliverable.edit")
    form = DeliverableForm()
    if request.method == "GET":
        handles = p.influencer.handles
        form.platform.data = handles[0].platform if handles else "instagram"
        form.due_date.data = p.end_date or p.campaign.end_date
    return _deliverable_page(form, p, None)


@route(f"/deliverables/{DELIVERABLE}/edit", methods=["GET", "POST"])
@require("deliverable.edit")
def deliverable_edit(deliverable_id: int):
    d = get_for(Deliverable, deliverable_id, "deliverable.edit")
    return _deliverable_page(DeliverableForm(obj=d), d.partnership, d)


@route(f"/deliverables/{DELIVERABLE}")
@require("partnership.view")
def deliverable_detail(deliverable_id: int):
    d = get_for(Deliverable, deliverable_id, "partnership.view")
    return _detail_page(d)


def _detail_page(
    d: Deliverable,
    *,
    step_error: dict[str, Any] | None = None,
    metrics_form=None,
    tracking_form=None,
):
    """The deliverable page; after a refused step, metrics or tracking change it is rendered
    again (400) with the message beside the field and the typed values kept."""
    metrics = metrics_form or MetricsForm(
        data={name: getattr(d, name) for name in METRIC_FIELDS}
        | {"revenue": reporting.major(d.revenue_minor, d.partnership.currency)}
    )
    page = render_template(
        "influencers/deliverable.html",
        d=d,
        p=d.partnership,
        steps=workflow.steps_for(d, current_user),
        step_form=StepForm(),
        step_error=step_error,
        metrics_form=metrics,
        metric_fields=METRIC_FIELDS,
        tracking_form=tracking_form or TrackingForm(obj=d),
        tracking_link=workflow.tracking_link(d),
        history=history_for(d, limit=20) if can("audit.view") else [],
    )
    failed = step_error or metrics_form is not None or tracking_form is not None
    return page, 400 if failed else 200


def _to_detail(d: Deliverable):
    return redirect(url_for("influencers.deliverable_detail", deliverable_id=d.id))


@route(f"/deliverables/{DELIVERABLE}/step", methods=["POST"])
@require("deliverable.step")
def deliverable_step(deliverable_id: int):
    d = get_for(Deliverable, deliverable_id, "deliverable.step")
    form = StepForm()
    # Every field is offered to the service; it reads only the ones the step allows.
    values = {
        "content_url": form.content_url.data,
        "reviewer_comments": form.reviewer_comments.data,
        "published_on": form.published_on.data,
        "proof_url": form.proof_url.data,
    }
    typed = {name: request.form.get(name, "") for name in values}
    if not form.validate():
        field, errors = next(iter(form.errors.items()))
        message = "Enter the date like 2026-03-01." if field == "published_on" else errors[0]
        return _detail_page(
            d, step_error={"to": form.to.data, "field": field, "message": message, **typed}
        )
    before = d.status
    try:
        workflow.move(d, form.to.data or "", values, current_user)
    except InfluencerError as exc:
        db.session.rollback()
        return _detail_page(
            d, step_error={"to": form.to.data, "field": exc.field, "message": str(exc), **typed}
        )
    db.session.commit()
    if d.status == before:  # the proof saved on a published deliverable
        flash(f"Proof of post saved for {d}; someone else verifies it.", "success")
    else:
        flash(f"{d} is now {d.status_enum.label.lower()}.", "success")
    return _to_detail(d)


@route(f"/deliverables/{DELIVERABLE}/metrics", methods=["POST"])
@require("deliverable.edit")
def deliverable_metrics(deliverable_id: int):
    d = get_for(Deliverable, deliverable_id, "deliverable.edit")
    form = MetricsForm()
    values = {name: getattr(form, name).data or "" for name in (*METRIC_FIELDS, "revenue")}
    try:
        if not form.validate():
            return _detail_page(d, metrics_form=form)
        workflow.save_metrics(d, values)
    except InfluencerError as exc:
        db.session.rollback()
        show_problems(form, exc, "impressions")
        return _detail_page(d, metrics_form=form)
    db.session.commit()
    flash("Metrics saved.", "success")
    return _to_detail(d)


@route(f"/deliverables/{DELIVERABLE}/tracking", methods=["POST"])
@require("deliverable.edit")
def deliverable_tracking(deliverable_id: int):
    d = get_for(Deliverable, deliverable_id, "deliverable.edit")
    form = TrackingForm()
    values = {
        name: getattr(form, name).data or ""
        for name in ("landing_url", "utm_source", "utm_medium", "utm_content")
    }
    try:
        if not form.validate():
            return _detail_page(d, tracking_form=form)
        workflow.save_tracking(d, values)
    except InfluencerError as exc:
        db.session.rollback()
        show_problems(form, exc, "landing_url")
        return _detail_page(d, tracking_form=form)
    db.session.commit()
    flash("Tracking link saved.", "success")
    return _to_detail(d)


@route("/roi")
@require("partnership.view")
def roi():
    campaign_id = id_arg("campaign")
    campaign = get_for(Campaign, campaign_id, "partnership.view") if campaign_id else None
    report = reporting.roi_report([campaign.id] if campaign else None)
    return render_template(
        "influencers/roi.html",
        campaign=campaign,
        report=report,
        campaigns=reporting.campaigns_with_partnerships(),
    )
