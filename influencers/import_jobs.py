"""Influencer CSV uploads (roster, orders, deliverable metrics) previewed and imported by jobs.

An upload is streamed to disk (`core.uploads`) and an `InfluencerUpload` row holds everything
else: the chosen mapping, the stored roster preview, the import's report, and the state of
the job at work on it (`stage`, `status`, `progress`). Jobs are plain functions of the row's
id, called through `core.jobs.enqueue` (inline without Redis, on a worker with it), with
deterministic job ids: a preview's id names the mapping it computes, so asking twice queues
once and a preview for an older mapping never overwrites a newer one.

A roster preview is computed once per mapping and stored: opening the page again reads the
row, never the file. An import's writes and its row's final state commit together; a failed
import rolls back and says why; an imported upload is never imported again.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import or_, select

from core.audit import acting_as
from core.extensions import db
from core.jobs import enqueue
from core.models import User
from core.permissions import can
from core.progress import RowProgress
from core.types import utcnow
from core.uploads import Limits, Source, discard, store_upload, upload_dir
from influencers.imports import ImportResult, import_roster, preview_roster
from influencers.models import InfluencerUpload, UploadStatus
from influencers.orders import import_metrics, import_orders

log = logging.getLogger(__name__)

SAMPLE_ROWS = 5
KEEP_DAYS = 1  # uploads (their files and reports) kept this long
JOB_TIMEOUT = 2 * 3600


class UploadBusy(ValueError):
    """The upload's import is already queued or running."""


def store(stream, filename: str, kind: str, user_id: int) -> InfluencerUpload:
    """Keep an uploaded file (UploadProblem if over the size cap) and its row. A person's
    earlier uploads that are not being imported, and anyone's older than a day, go."""
    path = store_upload(stream, f"influencers-{kind}", Limits.from_config())
    cutoff = utcnow() - timedelta(days=KEEP_DAYS)
    old = db.session.scalars(
        select(InfluencerUpload).where(
            or_(InfluencerUpload.created_by_id == user_id, InfluencerUpload.created_at < cutoff)
        )
    ).all()
    for upload in old:
        if upload.busy and upload.created_at >= cutoff:
            continue  # a job is at work on it
        discard(_path(upload))
        db.session.delete(upload)
    upload = InfluencerUpload(
        created_by_id=user_id,
        filename=(filename or f"{kind}.csv")[:255],
        kind=kind,
        path=path.name,
        stage="preview" if kind == "roster" else "import",
        status=UploadStatus.QUEUED.value,
    )
    db.session.add(upload)
    db.session.commit()
    return upload


def queue_preview(upload: InfluencerUpload, mapping: dict[int, str] | None, currency: str):
    """Ask for the roster's dry run with this mapping (None: the guessed one)."""
    if upload.stage == "import" and upload.busy and upload.job_id and not interrupted(upload):
        raise UploadBusy("This file is being imported: wait for the result.")
    upload.mapping = _plain(mapping)
    upload.currency = currency
    upload.stage = "preview"
    _start(upload, preview_job, f"influencer-upload-{upload.id}-preview-{_digest(upload)}")


def queue_import(
    upload: InfluencerUpload, mapping: dict[int, str] | None = None, currency: str | None = None
):
    """Ask for the import (a roster with this mapping)."""
    if upload.imported:
        return
    if upload.stage == "import" and upload.busy and upload.job_id and not interrupted(upload):
        raise UploadBusy("This file is being imported: wait for the result.")
    if upload.kind == "roster":
        upload.mapping = _plain(mapping)
        upload.currency = currency or upload.currency
    upload.stage = "import"
    _start(upload, import_job, f"influencer-upload-{upload.id}-import")


def _start(upload: InfluencerUpload, job: Callable[..., Any], job_id: str) -> None:
    upload.status = UploadStatus.QUEUED.value
    upload.progress = 0
    upload.job_id = job_id
    upload.finished_at = None
    db.session.commit()
    upload_id = upload.id
    try:
        enqueue(job, upload_id, job_id=job_id, timeout=JOB_TIMEOUT)
    except Exception as exc:  # the queue is down: say so, nothing is half-started
        log.warning("influencer upload %s could not be queued: %s", upload_id, exc)
        db.session.rollback()
        upload = db.session.get(InfluencerUpload, upload_id)
        upload.status = UploadStatus.FAILED.value
        upload.result = ImportResult(
            kind=upload.kind,
            filename=upload.filename,
            problem="The job queue is unavailable: nothing was done. Try again shortly.",
        ).to_dict()
        db.session.commit()
    db.session.expire_all()


# --- the jobs ---------------------------------------------------------------------------------


def preview_job(upload_id: int) -> dict[str, Any]:
    """Compute and store a roster's dry run for the mapping on its row."""
    upload = _begin(upload_id, "preview")
    if upload is None:
        return {"upload_id": upload_id, "status": "skipped"}
    digest = _digest(upload)
    try:
        preview = preview_roster(
            Source(path=_path(upload)),
            _mapping(upload),
            upload.currency,
            upload.filename,
            limits=Limits.from_config("ROSTER_MAX_ROWS"),
            progress=RowProgress(InfluencerUpload.__table__, upload_id),
        )
        stored = _stored_preview(preview, upload)
    except Exception:
        log.exception("preview of influencer upload %s failed", upload_id)
        db.session.rollback()
        _fail(upload_id, "The preview stopped on an unexpected error: upload the file again.")
        raise
    db.session.rollback()  # a dry run: nothing to keep but the preview
    upload = db.session.get(InfluencerUpload, upload_id, populate_existing=True)
    if upload is None or upload.stage != "preview" or _digest(upload) != digest:
        return {"upload_id": upload_id, "status": "superseded"}
    upload.preview = stored
    upload.mapping = stored["mapping"]
    upload.status = UploadStatus.DONE.value
    upload.progress = 100
    upload.finished_at = utcnow()
    db.session.commit()
    return {"upload_id": upload_id, "status": "done"}


def import_job(upload_id: int) -> dict[str, Any]:
    """Import an upload; its writes and its report commit together."""
    upload = _begin(upload_id, "import")
    if upload is None:
        return {"upload_id": upload_id, "status": "skipped"}
    user = db.session.get(User, upload.created_by_id)
    source = Source(path=_path(upload))
    progress = RowProgress(InfluencerUpload.__table__, upload_id)
    try:
        with acting_as(user.email if user else "system", user.id if user else None):
            if upload.kind == "roster":
                result = import_roster(
                    source,
                    _mapping(upload),
                    upload.currency,
                    upload.filename,
                    limits=Limits.from_config("ROSTER_MAX_ROWS"),
                    progress=progress,
                )
            elif upload.kind == "orders":
                result = import_orders(
                    source,
                    upload.filename,
                    limits=Limits.from_config("ORDERS_MAX_ROWS"),
                    progress=progress,
                )
            else:
                result = import_metrics(
                    source,
                    upload.filename,
                    allowed=lambda d: can("deliverable.edit", d, user=user),
                    limits=Limits.from_config("ORDERS_MAX_ROWS"),
                    progress=progress,
                )
            if result.problem:
                db.session.rollback()  # nothing of a file that could not be read
                upload = db.session.get(InfluencerUpload, upload_id, populate_existing=True)
            upload.result = result.to_dict()
            upload.status = (UploadStatus.FAILED if result.problem else UploadStatus.DONE).value
            upload.progress = 100
            upload.finished_at = utcnow()
            db.session.commit()
    except Exception:
        log.exception("import of influencer upload %s failed", upload_id)
        db.session.rollback()
        _fail(upload_id, "The import stopped on an unexpected error; nothing was changed.")
        raise
    if not result.problem:
        discard(_path(upload))
    return {"upload_id": upload_id, "status": upload.status}


def _begin(upload_id: int, stage: str) -> InfluencerUpload | None:
    upload = db.session.get(InfluencerUpload, upload_id)
    if upload is None or upload.stage != stage or upload.imported:
        return None
    if upload.status not in (UploadStatus.QUEUED, UploadStatus.RUNNING):
        return None  # done already (a second run of the job) or failed
    upload.status = UploadStatus.RUNNING.value
    upload.heartbeat_at = utcnow()
    db.session.commit()
    return upload


def _fail(upload_id: int, message: str) -> None:
    upload = db.session.get(InfluencerUpload, upload_id)
    if upload is None:
        return
    upload.status = UploadStatus.FAILED.value
    upload.result = ImportResult(
        kind=upload.kind, filename=upload.filename, problem=message
    ).to_dict()
    upload.finished_at = utcnow()
    db.session.commit()


# --- helpers ----------------------------------------------------------------------------------


def _path(upload: InfluencerUpload) -> Path:
    # A bare file name from our own row: never a path a value could steer elsewhere.
    return upload_dir() / Path(upload.path or "missing").name


def _plain(mapping: dict[int, str] | None) -> dict[str, str] | None:
    return None if mapping is None else {str(k): v for k, v in sorted(mapping.items())}


def _mapping(upload: InfluencerUpload) -> dict[int, str] | None:
    if upload.mapping is None:
        return None
    return {int(k): v for k, v in upload.mapping.items()}


def _digest(upload: InfluencerUpload) -> str:
    text = json.dumps([upload.mapping, upload.currency], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _stored_preview(preview, upload: InfluencerUpload) -> dict[str, Any]:
    """The dry run as the preview page shows it: no need to read the file again."""
    table = preview.table
    samples: list[list[str]] = []
    if table is not None:
        for _line, cells in table.rows():
            samples.append([cell[:80] for cell in cells[:200]])
            if len(samples) == SAMPLE_ROWS:
                break
    return {
        "headers": table.headers if table is not None else [],
        "row_count": table.row_count if table is not None else 0,
        "mapping": _plain(preview.mapping),
        "mapping_problems": preview.mapping_problems,
        "samples": samples,
        "result": preview.result.to_dict(),
    }


def interrupted(upload: InfluencerUpload) -> bool:
    """A running job that stopped beating IMPORT_STALE_SECONDS ago was killed (its
    transaction rolled back: nothing of it is stored); the person may start it again."""
    limit = timedelta(seconds=current_app.config.get("IMPORT_STALE_SECONDS", 1800))
    beat = upload.heartbeat_at or upload.created_at
    return upload.status == UploadStatus.RUNNING and beat is not None and utcnow() - beat >= limit
