"""Ad accounts: connect, sync now (with progress), map platform campaigns, import CSV exports."""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from ads import mapping, services, sync
from ads.forms import ConnectMetaForm, CsvImportForm, MappingForm, SyncForm
from ads.models import AdAccount, PlatformCampaign, RunStatus, SpendFact, SyncRun
from ads.sync_health import failing
from ads.sync_runs import Joined
from analytics.services import refresh_goals
from campaigns.models import Campaign, CampaignStatus
from core.extensions import db
from core.money import Money
from core.params import id_arg, page_arg
from core.permissions import get_for, require
from core.uploads import UploadProblem

bp = Blueprint("ads", __name__, url_prefix="/ads")


@bp.route("/")
@require("ads.view")
def accounts():
    rows = db.session.scalars(select(AdAccount).order_by(AdAccount.platform, AdAccount.name)).all()
    unmapped = _unmapped_spend()
    return render_template("ads/accounts.html", accounts=rows, unmapped=unmapped)


def _unmapped_spend() -> list[tuple[str, Money]]:
    stmt = (
        select(SpendFact.currency, func.sum(SpendFact.spend_minor))
        .join(PlatformCampaign, PlatformCampaign.id == SpendFact.platform_campaign_id)
        .where(PlatformCampaign.campaign_id.is_(None))
        .group_by(SpendFact.currency)
        .order_by(SpendFact.currency)
    )
    return [(cur, Money(int(total or 0), cur)) for cur, total in db.session.execute(stmt)]


@bp.route("/connect", methods=["GET", "POST"])
@require("ads.connect")
def connect():
    form = ConnectMetaForm()
    # "Replace the access token" on an account page: the same form, prefilled for it.
    account_id = id_arg("account")
    replacing = None
    if account_id is not None:
        replacing = get_for(AdAccount, account_id, "ads.connect")
        if replacing.platform != "meta_ads":
            replacing = None
        elif request.method == "GET":
            form.account_id.data = replacing.external_id
            form.name.data = replacing.name
            form.currency.data = replacing.currency
            form.backfill_days.data = replacing.backfill_days
    if form.validate_on_submit():
        try:
            account = services.connect_meta_account(
                form.account_id.data,
                form.token.data,
                name=form.name.data or "",
                currency=form.currency.data or "",
                user_id=current_user.id,
            )
            account.backfill_days = form.backfill_days.data or 90
        except services.AdsError as exc:
            field = getattr(form, exc.field or "account_id")
            field.errors = [*field.errors, str(exc)]
        else:
            db.session.commit()
            if replacing is not None and replacing.id == account.id:
                flash(f"New access token stored for {account}, encrypted.", "success")
            else:
                flash(f"Connected {account}. Press “Sync now” to pull its spend.", "success")
            return redirect(url_for("ads.account", account_id=account.id))
    status = 400 if request.method == "POST" else 200
    return render_template("ads/connect.html", form=form, replacing=replacing), status


def _campaign_choices(rights: mapping.MapRights) -> dict[str, str]:
    """The campaigns this person may put spend on (their own; every one for an admin)."""
    campaigns = db.session.scalars(
        select(Campaign)
        .where(Campaign.status != CampaignStatus.ARCHIVED.value)
        .order_by(Campaign.name)
    )
    return {"": "— automatic (naming rule) —", "none": "— not a Flightdeck campaign —"} | {
        str(c.id): c.name for c in campaigns if rights.allows(c.id)
    }


@bp.route("/accounts/<int:account_id>")
@require("ads.view")
def account(account_id: int):
    acc = get_for(AdAccount, account_id, "ads.view")
    live = sync.active_run(acc.id) if acc.platform == "meta_ads" else None
    rights = mapping.MapRights(current_user)
    runs = db.session.scalars(
        select(SyncRun).where(SyncRun.account_id == acc.id).order_by(SyncRun.id.desc()).limit(15)
    ).all()
    spend = dict(
        db.session.execute(
            select(SpendFact.platform_campaign_id, func.sum(SpendFact.spend_minor))
            .where(SpendFact.account_id == acc.id)
            .group_by(SpendFact.platform_campaign_id)
        ).all()
    )
    return render_template(
        "ads/account.html",
        account=acc,
        runs=runs,
        spend={k: Money(int(v or 0), acc.currency) for k, v in spend.items()},
        sync_form=SyncForm(),
        choices=_campaign_choices(rights),
        rights=rights,
        held_reason=mapping.held_reason,
        live=live,
        failing=failing(acc) if acc.platform == "meta_ads" and live is None else None,
    )


@bp.route("/accounts/<int:account_id>/sync", methods=["POST"])
@require("ads.sync")
def sync_now(account_id: int):
    acc = get_for(AdAccount, account_id, "ads.sync")
    form = SyncForm()
    if not form.validate():
        flash("Dates must look like 2026-03-01.", "error")
        return redirect(url_for("ads.account", account_id=acc.id))
    try:
        run, joined = sync.begin_sync(
            acc.id,
            form.since.data,
            form.until.data,
            user_id=current_user.id,
            today_so_far=bool(form.today.data),
            origin="web",
        )
    except sync.SyncRefused as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("ads.account", account_id=acc.id))
    flash(*_sync_message(run, joined=joined))
    return redirect(url_for("ads.run", run_id=run.id))


def _sync_message(run: SyncRun, *, joined: bool) -> tuple[str, str]:
    """What "Sync now" did, in words: joined a live run, finished, failed, or started."""
    window = f"{run.since:%d %b %Y} – {run.until:%d %b %Y}"
    if joined:
        return (
            f"A sync of this account is already under way: {Joined(run)}, {window}. "
            "Here is its progress.",
            "info",
        )
    note = (run.details or {}).get("window_note", "")
    note = f" {note}" if note else ""
    if run.status == RunStatus.SUCCEEDED:
        return (
            f"Sync finished for {window}: {run.rows_inserted:,} new, {run.rows_updated:,} "
            f"updated, {run.rows_restated:,} restated rows.{note}",
            "success",
        )
    if run.status == RunStatus.FAILED:
        return f"The sync failed: {run.error or 'see the run below'}", "error"
    resumed = f" It carries on from run {run.resumed_from_id}." if run.resumed_from_id else ""
    return f"Sync started for {window}: this page follows its progress.{resumed}{note}", "info"


@bp.route("/runs/<int:run_id>")
@require("ads.view")
def run(run_id: int):
    r = get_for(SyncRun, run_id, "ads.view")
    return render_template("ads/run.html", run=r)


@bp.route("/runs/<int:run_id>/status")
@require("ads.view")
def run_status(run_id: int):
    r = get_for(SyncRun, run_id, "ads.view")
    return jsonify(
        id=r.id,
        status=r.status,
        progress=r.progress,
        final=r.is_final,
        inserted=r.rows_inserted,
        updated=r.rows_updated,
        unchanged=r.rows_unchanged,
        restated=r.rows_restated,
        rejected=r.rows_rejected,
        pages=r.pages,
        requests=r.requests,
        error=r.error,
    )


@bp.route("/platform-campaigns/<int:pc_id>/mapping", methods=["POST"])
@require("ads.map")
def map_campaign(pc_id: int):
    pc = get_for(PlatformCampaign, pc_id, "ads.map")
    form = MappingForm()
    before = pc.campaign_id
    try:
        message = mapping.change_mapping(
            pc, form.campaign_id.data or "", mapping.MapRights(current_user)
        )
    except services.AdsError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        # Goal progress follows the spend to its new campaign at once, not at the next sync.
        refresh_goals([before, pc.campaign_id])
        db.session.commit()
        flash(message, "success" if pc.mapping_source != "held" else "warning")
    return redirect(url_for("ads.account", account_id=pc.account_id))


@bp.route("/import", methods=["GET", "POST"])
@require("ads.import")
def import_csv():
    """Upload an export: it is stored and imported by a job; the page follows the job (at
    once final when jobs run inline) and shows its row report. `?run=N` shows an import."""
    from ads.csv_jobs import queue_import

    form = CsvImportForm()
    run = None
    if form.validate_on_submit():
        upload = form.file.data
        try:
            run = queue_import(
                upload.stream,
                upload.filename or "",
                platform=form.platform.data,
                account_id=form.account_id.data or None,
                currency=form.currency.data or None,
                date_order=form.date_order.data or None,
                user_id=current_user.id,
            )
        except UploadProblem as exc:
            form.file.errors = [*form.file.errors, str(exc)]
    elif request.method == "GET" and (raw := request.args.get("run", "")):
        if not raw.isascii() or not raw.isdigit() or len(raw) > 9:
            abort(404)
        run = get_for(SyncRun, int(raw), "ads.view")
        if run.kind != "csv_import":
            abort(404)
    status = 400 if request.method == "POST" and form.errors else 200
    return render_template("ads/import.html", form=form, run=run), status


@bp.route("/runs")
@require("ads.view")
def runs():
    stmt = select(SyncRun).order_by(SyncRun.id.desc())
    page = db.paginate(stmt, page=page_arg(), per_page=30, error_out=False)
    return render_template("ads/runs.html", page=page)
