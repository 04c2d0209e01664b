"""FX rates kept by finance: list, add or replace, remove, CSV import (all or nothing)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from budgets import fx
from budgets.forms import CURRENCY_CHOICES, FxImportForm, FxRateForm
from budgets.models import FxRate
from core.extensions import db
from core.params import page_arg
from core.permissions import get_for, require

bp = Blueprint("fx", __name__, url_prefix="/fx")
RATE = "<int(max=2147483647):rate_id>"
MAX_UPLOAD = 5 * 1024 * 1024


def _pair_args() -> tuple[str, str]:
    base = request.args.get("base", "")
    quote = request.args.get("quote", "")
    return (base if base in CURRENCY_CHOICES else "", quote if quote in CURRENCY_CHOICES else "")


def _render(form: FxRateForm, status: int = 200):
    base, quote = _pair_args()
    page = db.paginate(fx.rates_query(base, quote), page=page_arg(), per_page=50, error_out=False)
    periods = fx.locked_periods()
    return render_template(
        "budgets/fx.html",
        form=form,
        page=page,
        base=base,
        quote=quote,
        currencies=list(CURRENCY_CHOICES),
        locked={r.id for r in page.items if fx.is_locked(r.day, periods)},
    ), status


@bp.route("/", methods=["GET"])
@require("fx.view")
def rates():
    return _render(FxRateForm(formdata=None))


@bp.route("/", methods=["POST"])
@require("fx.manage")
def add_rate():
    form = FxRateForm()
    if form.validate_on_submit():
        try:
            rate = fx.set_rate(
                current_user,
                form.day.data,
                form.base_currency.data,
                form.quote_currency.data,
                form.rate.data,
                form.source.data,
            )
        except fx.FxError as exc:
            db.session.rollback()
            field = getattr(form, exc.field or "rate", form.rate)
            field.errors = [*field.errors, str(exc)]
        else:
            db.session.commit()
            flash(
                f"Rate saved: 1 {rate.base_currency} = {rate.rate.normalize():f} "
                f"{rate.quote_currency} on {rate.day:%d %b %Y}.",
                "success",
            )
            return redirect(url_for("budgets.fx.rates"))
    return _render(form, 400)


@bp.route(f"/{RATE}/delete", methods=["POST"])
@require("fx.manage")
def delete_rate(rate_id: int):
    rate = get_for(FxRate, rate_id, "fx.manage")
    try:
        fx.delete_rate(rate)
    except fx.FxError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash("Rate removed.", "success")
    return redirect(url_for("budgets.fx.rates"))


@bp.route("/import", methods=["GET", "POST"])
@require("fx.manage")
def import_rates():
    form = FxImportForm()
    result = None
    if form.validate_on_submit():
        upload = request.files.get("file")
        raw = upload.read(MAX_UPLOAD + 1) if upload else b""
        if not raw:
            form.file.errors = [*form.file.errors, "Choose a CSV file."]
        elif len(raw) > MAX_UPLOAD:
            form.file.errors = [*form.file.errors, "The file is larger than 5 MB."]
        else:
            result = fx.import_rates(current_user, raw, (upload.filename or "upload.csv")[:100])
            if result.errors:
                db.session.rollback()
            else:
                db.session.commit()
                flash(f"Imported {result.saved} rate(s).", "success")
                return redirect(url_for("budgets.fx.rates"))
    status = 400 if request.method == "POST" else 200
    return render_template("budgets/fx_import.html", form=form, result=result), status
