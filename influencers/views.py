"""Influencer pages. This module holds the roster and registers the partnership, deliverable,
report and CSV import pages (defined in pages_*.py) on the one blueprint."""

from __future__ import annotations

from decimal import Decimal

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from core.audit import history_for
from core.extensions import db
from core.params import page_arg
from core.permissions import can, get_for, require
from core.rules import show_problems
from influencers import (
    pages_deliverables,
    pages_imports,
    pages_partnerships,
    pages_payments,
    services,
)
from influencers.forms import InfluencerForm
from influencers.models import (
    DeliverableType,
    Influencer,
    InfluencerStatus,
    Partnership,
    SocialPlatform,
)
from influencers.services import HandleInput, InfluencerError, ProfileInput, RosterQuery

bp = Blueprint("influencers", __name__, url_prefix="/influencers")
ID = "<int(max=2147483647):influencer_id>"

for _module in (pages_partnerships, pages_payments, pages_deliverables, pages_imports):
    for _rule, _view, _options in _module.ROUTES:
        bp.add_url_rule(_rule, view_func=_view, **_options)


def _int_arg(name: str) -> int | None:
    text = request.args.get(name, "").replace(",", "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 16 else None


def _decimal_arg(name: str) -> Decimal | None:
    from campaigns.services import parse_number

    value = parse_number(request.args.get(name, "")[:20])
    return value if value is not None and 0 <= value <= 100 else None


@bp.route("/")
@require("influencer.view")
def index():
    args = request.args
    query = RosterQuery(
        q=args.get("q", "").replace("\x00", "")[:100],
        platform=args.get("platform", "") if args.get("platform") in set(SocialPlatform) else "",
        niche=args.get("niche", "").replace("\x00", "").replace(",", "")[:40],
        country=args.get("country", "").upper()[:2] if args.get("country", "").isalpha() else "",
        status=args.get("status", "") if args.get("status") in set(InfluencerStatus) else "",
        min_followers=_int_arg("min_followers"),
        max_followers=_int_arg("max_followers"),
        min_engagement=_decimal_arg("min_engagement"),
        sort=args.get("sort", "name") if args.get("sort") in services.ROSTER_SORTS else "name",
        desc=args.get("dir") == "desc",
    )
    page = db.paginate(services.search_roster(query), page=page_arg(), per_page=25, error_out=False)
    return render_template(
        "influencers/list.html",
        page=page,
        query=query,
        platforms=list(SocialPlatform),
        statuses=list(InfluencerStatus),
        niches=services.known_niches(),
        countries=services.known_countries(),
    )


def _profile_input(form) -> ProfileInput:
    handles = {}
    for p in SocialPlatform:
        followers = getattr(form, f"{p.value}_followers")
        engagement = getattr(form, f"{p.value}_engagement")
        handles[p.value] = HandleInput(
            handle=(getattr(form, f"{p.value}_handle").data or "").strip(),
            followers=getattr(followers, "parsed", None) if followers.data else None,
            engagement_rate=getattr(engagement, "parsed", None) if engagement.data else None,
        )
    return ProfileInput(
        name=form.name.data or "",
        status=form.status.data,
        country=(form.country.data or "").strip().upper(),
        language=form.language.data or "",
        contact_email=form.contact_email.data or "",
        contact_phone=form.contact_phone.data or "",
        niches=form.niches.data or "",
        notes=form.notes.data or "",
        handles=handles,
        rates={t.value: getattr(form, f"rate_{t.value}").data or "" for t in DeliverableType},
        rate_currency=form.rate_currency.data,
    )


def _fill_form(form, influencer: Influencer) -> None:
    form.niches.data = ", ".join(influencer.niches)
    for h in influencer.handles:
        getattr(form, f"{h.platform}_handle").data = h.handle
        getattr(form, f"{h.platform}_followers").data = str(h.followers)
        rate = h.engagement_rate
        getattr(form, f"{h.platform}_engagement").data = (
            format(rate.normalize(), "f") if rate is not None else ""
        )
    for r in influencer.rates:
        getattr(form, f"rate_{r.deliverable_type}").data = str(r.amount.amount)
        form.rate_currency.data = r.currency


def _profile_page(form, influencer: Influencer | None):
    if form.is_submitted():
        valid = form.validate()
        data = _profile_input(form)
        # Rule errors show beside the form's own, so one round trip lists every problem.
        errors = {k: v for k, v in services.profile_errors(data, influencer).items() if k in form}
        if valid and not errors:
            if influencer is None:
                influencer = services.create_influencer(data)
            else:
                services.apply_profile(influencer, data)
            db.session.commit()
            flash(f"{influencer.name} saved.", "success")
            return redirect(url_for("influencers.detail", influencer_id=influencer.id))
        for name, message in errors.items():
            field = getattr(form, name, form.name)
            if not field.errors:  # one message per field: the form's own says it already
                field.errors = [*field.errors, message]
    status = 400 if request.method == "POST" else 200
    page = render_template(
        "influencers/form.html",
        form=form,
        influencer=influencer,
        platforms=list(SocialPlatform),
        types=list(DeliverableType),
    )
    return page, status


@bp.route("/new", methods=["GET", "POST"])
@require("influencer.edit")
def create():
    return _profile_page(InfluencerForm(), None)


@bp.route(f"/{ID}")
@require("influencer.view")
def detail(influencer_id: int):
    influencer = get_for(Influencer, influencer_id, "influencer.view")
    partnerships = db.session.scalars(
        select(Partnership)
        .where(Partnership.influencer_id == influencer.id)
        .order_by(Partnership.created_at.desc())
    ).all()
    return render_template(
        "influencers/detail.html",
        influencer=influencer,
        partnerships=partnerships,
        history=history_for(influencer, limit=15) if can("audit.view") else [],
    )


@bp.route(f"/{ID}/edit", methods=["GET", "POST"])
@require("influencer.edit")
def edit(influencer_id: int):
    influencer = get_for(Influencer, influencer_id, "influencer.edit")
    form = InfluencerForm(obj=influencer)
    if request.method == "GET":
        _fill_form(form, influencer)
    return _profile_page(form, influencer)


def show_error(form, exc: InfluencerError, default: str = "name") -> None:
    show_problems(form, exc, default)
