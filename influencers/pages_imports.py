"""The influencer CSV import pages: a roster (upload, preview with its column mapping, import),
shop orders and deliverable metrics. Every upload is stored on disk and worked on by a job
(`influencers.import_jobs`); a page shows the job's progress until its result is there, and
shows stored results without reading the file again. Registered by influencers.views."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from core.extensions import db
from core.models import Role
from core.permissions import OBJECT_RULES, get_for, require
from core.uploads import UploadProblem
from influencers import import_jobs
from influencers.forms import CURRENCIES, CsrfOnlyForm, UploadForm
from influencers.imports import ImportResult
from influencers.models import InfluencerUpload
from influencers.roster_csv import targets

ROUTES: list[tuple[str, Callable[..., Any], dict[str, Any]]] = []
UPLOAD = "<int(max=2147483647):upload_id>"


def route(rule: str, **options: Any):
    def decorator(view):
        ROUTES.append((rule, view, options))
        return view

    return decorator


def _own_upload(user, upload) -> bool:
    return user.role == Role.ADMIN or upload.created_by_id == user.id


# An upload is only ever previewed, imported and read back by the person who uploaded it.
OBJECT_RULES.setdefault("influencer.import", _own_upload)


def _upload(upload_id: int, kind: str | None = None) -> InfluencerUpload:
    upload = get_for(InfluencerUpload, upload_id, "influencer.import")
    if kind is not None and upload.kind != kind:
        abort(404)
    return upload


INTERRUPTED = (
    "Interrupted: the job stopped (its worker was stopped or killed) and nothing was changed. "
    "Try again."
)


def _waiting(upload: InfluencerUpload) -> bool:
    """Still to show as at work: queued or running, and not silent for too long."""
    return upload.busy and not import_jobs.interrupted(upload)


@route(f"/import/{UPLOAD}/status")
@require("influencer.import")
def import_status(upload_id: int):
    """The job's progress, for the page that follows it."""
    upload = _upload(upload_id)
    result = upload.result or {}
    stopped = import_jobs.interrupted(upload)
    error = result.get("problem", "") if upload.status == "failed" else ""
    return jsonify(
        id=upload.id,
        stage=upload.stage,
        status="failed" if stopped else upload.status,
        progress=upload.progress,
        final=not _waiting(upload),
        error=INTERRUPTED if stopped else error,
    )


# --- roster ---------------------------------------------------------------------------------


@route("/import", methods=["GET", "POST"])
@require("influencer.import")
def import_upload():
    form = UploadForm()
    if form.validate_on_submit():
        try:
            upload = import_jobs.store(
                form.file.data.stream, form.file.data.filename, "roster", current_user.id
            )
        except UploadProblem as exc:
            form.file.errors = [*form.file.errors, str(exc)]
        else:
            import_jobs.queue_preview(upload, None, "EUR")
            return redirect(url_for("influencers.import_preview", upload_id=upload.id))
    status = 400 if request.method == "POST" else 200
    return render_template("influencers/import.html", form=form), status


@dataclass
class _Table:
    headers: list[str]
    row_count: int


@dataclass
class StoredPreview:
    """A roster's dry run as the preview job stored it."""

    table: _Table | None
    mapping: dict[int, str]
    result: ImportResult
    mapping_problems: list[str]
    samples: list[list[str]]

    @classmethod
    def of(cls, upload: InfluencerUpload) -> StoredPreview | None:
        data = upload.preview
        if not data:
            return None
        result = ImportResult.from_dict(data.get("result") or {})
        table = None if result.problem else _Table(data["headers"], data["row_count"])
        mapping = {int(k): v for k, v in (data.get("mapping") or {}).items()}
        return cls(table, mapping, result, data["mapping_problems"], data["samples"])


def _posted_mapping(column_count: int) -> dict[int, str]:
    valid = targets()
    mapping = {}
    for index in range(column_count):
        target = request.form.get(f"col_{index}", "")
        if target in valid:
            mapping[index] = target
    return mapping


@route(f"/import/{UPLOAD}", methods=["GET", "POST"])
@require("influencer.import")
def import_preview(upload_id: int):
    upload = _upload(upload_id, "roster")
    form = CsrfOnlyForm()
    if request.method == "POST" and not upload.imported:
        if not form.validate():
            abort(400)
        currency = request.form.get("currency", "EUR")
        currency = currency if currency in CURRENCIES else "EUR"
        stored = StoredPreview.of(upload)
        columns = len(stored.table.headers) if stored and stored.table else 0
        mapping = _posted_mapping(columns)
        try:
            if request.form.get("action") == "import":
                import_jobs.queue_import(upload, mapping, currency)
            else:
                import_jobs.queue_preview(upload, mapping, currency)
        except import_jobs.UploadBusy as exc:
            flash(str(exc), "error")
        upload = db.session.get(InfluencerUpload, upload_id)
    return _roster_page(upload, form)


def _roster_page(upload: InfluencerUpload, form):
    if _waiting(upload):
        return render_template("influencers/import_progress.html", upload=upload)
    result = ImportResult.from_dict(upload.result) if upload.result else None
    if import_jobs.interrupted(upload):
        result = ImportResult(kind=upload.kind, filename=upload.filename, problem=INTERRUPTED)
    if upload.imported and result is not None:
        return render_template("influencers/import_result.html", result=result, upload=upload)
    if upload.stage == "import" and result is not None and result.problem:
        flash(result.problem, "error")
    preview = StoredPreview.of(upload)
    if preview is None:  # the preview itself failed: say why
        preview = StoredPreview(None, {}, result or ImportResult(problem="No preview."), [], [])
    return render_template(
        "influencers/import_preview.html",
        upload=upload,
        preview=preview,
        samples=preview.samples,
        targets=targets(),
        form=form,
        currency=upload.currency,
        currencies=CURRENCIES,
    )


# --- orders and deliverable metrics ----------------------------------------------------------


def _csv_page(kind: str):
    form = UploadForm()
    upload = None
    if form.validate_on_submit():
        try:
            upload = import_jobs.store(
                form.file.data.stream, form.file.data.filename, kind, current_user.id
            )
        except UploadProblem as exc:
            form.file.errors = [*form.file.errors, str(exc)]
        else:
            import_jobs.queue_import(upload)
            upload = db.session.get(InfluencerUpload, upload.id)
    elif request.method == "GET" and (raw := request.args.get("upload", "")):
        if not raw.isascii() or not raw.isdigit() or len(raw) > 9:
            abort(404)
        upload = _upload(int(raw), kind)
    result = None
    if upload is not None and import_jobs.interrupted(upload):
        result = ImportResult(kind=kind, filename=upload.filename, problem=INTERRUPTED)
    elif upload is not None and not upload.busy and upload.result:
        result = ImportResult.from_dict(upload.result)
    status = 400 if request.method == "POST" and (form.errors or upload is None) else 200
    page = render_template(
        "influencers/csv_import.html", form=form, kind=kind, result=result, upload=upload
    )
    return page, status


@route("/orders/import", methods=["GET", "POST"])
@require("orders.import")
def orders_import():
    return _csv_page("orders")


@route("/deliverables/metrics-import", methods=["GET", "POST"])
@require("deliverable.edit")
def metrics_import():
    return _csv_page("metrics")
