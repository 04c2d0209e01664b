"""A web upload of an ad CSV export, imported by a job.

`queue_import` streams the upload to the upload directory, records a queued `SyncRun`
(kind "csv_import": the job's state, in the database) and hands its id to
`core.jobs.enqueue`: inline without Redis, on an RQ worker (or an in-process executor) with
it. `run_csv_import(run_id)` does the import and reports its progress on the same row, through
a connection of its own (`core.progress`), so the page can follow it while the import's one
transaction is open. The facts and the run's final state commit together: a failed or killed
import leaves the run "running" or "failed", never half the facts under a finished run.
Running the job twice imports once (a final run is left alone; the facts are upserts anyway).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from ads.csv_import import import_csv
from ads.models import RunStatus, SyncRun
from core.audit import acting_as
from core.extensions import db
from core.jobs import enqueue
from core.models import User
from core.progress import RowProgress
from core.types import utcnow
from core.uploads import Limits, Source, discard, store_upload, upload_dir

log = logging.getLogger(__name__)

JOB_TIMEOUT = 2 * 3600


def queue_import(
    stream,
    filename: str,
    *,
    platform: str,
    account_id: str | None,
    currency: str | None,
    date_order: str | None,
    user_id: int | None,
) -> SyncRun:
    """Store the upload and queue its import; returns the run (final already when jobs run
    inline). Raises UploadProblem for a file over the size cap (nothing is recorded)."""
    path = store_upload(stream, "ads-csv", Limits.from_config())
    close_stale_imports()
    run = SyncRun(
        kind="csv_import",
        status=RunStatus.QUEUED.value,
        source_name=(filename or "")[:300],
        started_by_id=user_id,
        details={
            "platform": platform,
            "upload": path.name,
            "account_id": account_id or "",
            "currency": currency or "",
            "date_order": date_order or "",
        },
    )
    db.session.add(run)
    db.session.commit()
    run_id = run.id
    try:
        handle = enqueue(
            run_csv_import, run_id, job_id=f"csv-import-run-{run_id}", timeout=JOB_TIMEOUT
        )
    except Exception as exc:  # the queue is down: say so, keep nothing half-started
        log.warning("CSV import %s could not be queued: %s", run_id, exc)
        db.session.rollback()
        discard(path)
        run = db.session.get(SyncRun, run_id)
        _close(run, "The job queue is unavailable: nothing was imported. Try again shortly.")
        db.session.commit()
        return run
    db.session.expire_all()
    run = db.session.get(SyncRun, run_id)
    if not handle.inline and not run.job_id:
        run.job_id = handle.id
        db.session.commit()
    return run


def run_csv_import(run_id: int) -> dict[str, Any]:
    """The job: import the stored upload of run `run_id`; its result is on the run row."""
    run = db.session.get(SyncRun, run_id)
    if run is None or run.kind != "csv_import" or run.is_final:
        return {"run_id": run_id, "status": run.status if run else "missing"}
    details = dict(run.details or {})
    path = _upload_path(details.get("upload", ""))
    run.status = RunStatus.RUNNING.value
    run.started_at = utcnow()
    run.heartbeat_at = utcnow()
    run.progress = 0
    db.session.commit()
    user = db.session.get(User, run.started_by_id) if run.started_by_id else None
    try:
        with acting_as(user.email if user else "system", user.id if user else None):
            result = import_csv(
                details.get("platform", ""),
                Source(path=path),
                filename=run.source_name,
                account_id=details.get("account_id") or None,
                currency=details.get("currency") or None,
                user_id=run.started_by_id,
                date_order=details.get("date_order") or None,
                run_id=run_id,
                limits=Limits.from_config("IMPORT_MAX_ROWS"),
                progress=RowProgress(SyncRun.__table__, run_id),
            )
            db.session.commit()
    except Exception:
        log.exception("CSV import %s failed", run_id)
        db.session.rollback()
        run = db.session.get(SyncRun, run_id)
        _close(run, "The import stopped on an unexpected error; nothing from the file was stored.")
        db.session.commit()
        discard(path)
        raise
    discard(path)
    return {"run_id": run_id, "status": result.status}


def close_stale_imports() -> int:
    """Imports whose job died (a killed worker) stay "running": after IMPORT_STALE_SECONDS
    without a heartbeat they are closed as interrupted (their transaction was rolled back,
    so nothing of theirs is stored). Long, since SQLite gives no heartbeat while it writes.
    Does not commit."""
    limit = current_app.config.get("IMPORT_STALE_SECONDS", 1800)
    cutoff = utcnow() - timedelta(seconds=limit)
    stale = db.session.scalars(
        select(SyncRun).where(
            SyncRun.kind == "csv_import",
            SyncRun.status == RunStatus.RUNNING.value,
            func.coalesce(SyncRun.heartbeat_at, SyncRun.started_at) < cutoff,
        )
    ).all()
    for run in stale:
        _close(
            run,
            "Interrupted: the import stopped (its worker was stopped or killed) and nothing "
            "from the file was stored. Import the file again.",
        )
        discard(_upload_path((run.details or {}).get("upload", "")))
    return len(stale)


def _upload_path(name: str) -> Path:
    # Only a bare file name from our own row: never a path a value could steer elsewhere.
    return upload_dir() / Path(name or "missing").name


def _close(run: SyncRun | None, message: str) -> None:
    if run is None or run.is_final:
        return
    run.status = RunStatus.FAILED.value
    run.error = message
    run.details = {**(run.details or {}), "message": message, "errors": []}
    run.finished_at = utcnow()
