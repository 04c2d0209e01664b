"""The sync ledger: which run is live for an account, its windows, ids, back-off and outcome.

A `SyncRun` row is the one truth about a sync: the UI polls it, a rerun reads where the last
attempt got to (`details["done_through"]`), and at most one run per account is live (queued,
running or retrying) — checked against RQ and the worker's heartbeat here, and held by a
partial unique index in the database when two requests race.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import current_app
from rq import Worker
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ads.models import AdAccount, RunStatus, SyncRun
from core.extensions import db
from core.jobs import fetch_job
from core.types import utcnow

ATTRIBUTION_WINDOW_DAYS = 28
MAX_ATTEMPTS = 6  # failed attempts in a row (without a finished chunk) before giving up
BACKOFF_BASE_SECONDS = 60
BACKOFF_CAP_SECONDS = 3600
LIVE_STATUSES = (RunStatus.QUEUED.value, RunStatus.RUNNING.value, RunStatus.RETRYING.value)
INTERRUPTED = "Interrupted: the worker stopped before the sync finished."


class SyncRefused(RuntimeError):
    """A sync cannot start (no token, account needs re-authorisation...)."""


def job_id_for(run: SyncRun, attempt: int = 0) -> str:
    """Deterministic per run and attempt; one live run per account is enforced by `open_run`.

    A job killed with its worker may be re-queued by RQ's registry cleanup: under its own id it
    finds its run already final and does nothing, instead of standing in for a newer run.
    """
    base = f"sync-account-{run.account_id}-run-{run.id}"
    return base + (f"-retry-{attempt}" if attempt else "")


def default_window(account: AdAccount, today: date | None = None) -> tuple[date, date]:
    """First sync backfills; later ones re-pull the attribution window up to yesterday."""
    today = today or datetime.now(UTC).date()
    until = today - timedelta(days=1)
    if account.synced_through is None:
        since = until - timedelta(days=max(1, account.backfill_days) - 1)
    else:
        since = min(account.synced_through + timedelta(days=1), until) - timedelta(
            days=ATTRIBUTION_WINDOW_DAYS - 1
        )
    return since, until


def backoff_seconds(attempt: int, hinted: float | None) -> int:
    if hinted:
        return int(min(max(hinted, 1), BACKOFF_CAP_SECONDS))
    return int(min(BACKOFF_BASE_SECONDS * 2 ** max(0, attempt - 1), BACKOFF_CAP_SECONDS))


def _is_live(run: SyncRun) -> bool:
    """Is some worker (or the caller, inline) still responsible for this run?"""
    if run.is_final:
        return False
    if not current_app.config.get("REDIS_URL"):
        return False  # inline runs finish before the request does: a leftover is stale
    job = fetch_job(run.job_id) if run.job_id else None
    if job is None:
        return False
    status = job.get_status(refresh=True)
    if status is None or status.value not in ("queued", "started", "scheduled", "deferred"):
        return False
    if status.value != "started":
        return True
    # Started: only as alive as the worker running it (a SIGKILLed worker stops beating).
    worker = (
        Worker.find_by_key(Worker.redis_worker_namespace_prefix + job.worker_name, job.connection)
        if job.worker_name
        else None
    )
    if worker is None or worker.last_heartbeat is None:
        return False
    # The worker beats every 30 s while a job runs; SYNC_STALE_SECONDS without one = dead.
    stale = current_app.config["SYNC_STALE_SECONDS"]
    return (datetime.now(UTC) - worker.last_heartbeat).total_seconds() < stale


def active_run(account_id: int) -> SyncRun | None:
    """The account's live run, if any; runs nobody works on any more are closed as failed."""
    runs = db.session.scalars(
        select(SyncRun)
        .where(SyncRun.account_id == account_id, SyncRun.kind == "meta_sync")
        .where(SyncRun.status.in_(LIVE_STATUSES))
        .order_by(SyncRun.id.desc())
    ).all()
    live = None
    for run in runs:
        if live is None and _is_live(run):
            live = run
            continue
        # A run nobody works on any more (worker killed): say so, never leave it "running",
        # and drop its dead job so the account's job id is free for the rerun.
        job = fetch_job(run.job_id) if run.job_id else None
        if job is not None:
            job.delete()
        run.status = RunStatus.FAILED.value
        run.error = run.error or INTERRUPTED
        run.finished_at = utcnow()
    return live


def open_run(
    account: AdAccount, since: date | None, until: date | None, user_id: int | None
) -> tuple[SyncRun, bool]:
    """(run, created): a new queued run for the window, or the live one. Commits.

    Two requests racing past `active_run` both insert; the partial unique index on live runs
    refuses the second, which then gets the first one's run.
    """
    default_since, default_until = default_window(account)
    since, until = since or default_since, until or default_until
    if since > until:
        raise SyncRefused("The start date must be on or before the end date.")
    existing = active_run(account.id)
    if existing is not None:
        db.session.commit()
        return existing, False
    db.session.flush()  # stale runs closed before the new one goes in
    run = SyncRun(
        account_id=account.id,
        kind="meta_sync",
        status=RunStatus.QUEUED.value,
        since=since,
        until=until,
        started_by_id=user_id,
    )
    db.session.add(run)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        winner = db.session.scalars(
            select(SyncRun)
            .where(SyncRun.account_id == account.id, SyncRun.kind == "meta_sync")
            .where(SyncRun.status.in_(LIVE_STATUSES))
        ).first()
        if winner is None:
            raise
        return winner, False
    run.job_id = job_id_for(run)
    db.session.commit()
    return run, True


def done_through(run: SyncRun) -> date | None:
    """The last day of the window an earlier attempt of this run finished (chunk by chunk)."""
    value = (run.details or {}).get("done_through")
    return date.fromisoformat(value) if value else None


def failures(run: SyncRun) -> int:
    """Failed attempts in a row since the run last finished a chunk."""
    return int((run.details or {}).get("failures", 0))


def note(run: SyncRun, **values: Any) -> None:
    """Merge into `run.details` (a new dict, so the JSON column sees the change)."""
    run.details = {**(run.details or {}), **values}


def finish(run: SyncRun, status: RunStatus, error: str) -> dict[str, Any]:
    run.status = status.value
    run.error = error
    run.finished_at = utcnow()
    run.next_retry_at = None
    if status is RunStatus.SUCCEEDED:
        run.progress = 100
    db.session.commit()
    return {
        "run_id": run.id,
        "status": run.status,
        "inserted": run.rows_inserted,
        "updated": run.rows_updated,
        "restated": run.rows_restated,
        "error": run.error,
    }
