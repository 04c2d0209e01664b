"""The sync ledger: which run is live for an account, its attempts, back-off and outcome.

A `SyncRun` row is the one truth about a sync: the UI polls it, a rerun reads where the last
attempt got to (`details["done_through"]`, and the page cursor of the window it was in), and
at most one run per account is live (queued, running or retrying), held by a partial unique
index in the database when two requests race.

Liveness comes from the run itself: a running run is live while its `heartbeat_at` is fresh
(SYNC_STALE_SECONDS, ads/sync_beat.py beats it), whatever Redis says. A queued or retrying run
is live while its heartbeat is fresh or its job still exists; when Redis cannot be asked it is
taken as live (the reconciler re-enqueues it once its job is known to be gone). Every state
change is a conditional UPDATE (status, and the attempt for a running run), so a process that
lost its run (closed as interrupted, or taken over) can never write over the outcome.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ads.models import AdAccount, RunStatus, SyncRun
from ads.sync_window import (
    ATTRIBUTION_WINDOW_DAYS,
    Window,
    account_today,
    default_window,
    restate_from,
)
from core.extensions import db
from core.jobs import QueueUnavailable, job_state, register_reconciler
from core.types import utcnow

__all__ = ["ATTRIBUTION_WINDOW_DAYS", "default_window"]

MAX_ATTEMPTS = 6  # failed attempts in a row (without a finished window) before giving up
BACKOFF_BASE_SECONDS = 60
BACKOFF_CAP_SECONDS = 3600
LIVE_STATUSES = (RunStatus.QUEUED.value, RunStatus.RUNNING.value, RunStatus.RETRYING.value)
WAITING = (RunStatus.QUEUED.value, RunStatus.RETRYING.value)
INTERRUPTED = "Interrupted: the worker stopped before the sync finished."


class SyncRefused(RuntimeError):
    """A sync cannot start (no token, account needs re-authorisation, bad window...)."""


def job_id_for(run: SyncRun, attempt: int = 0) -> str:
    """Deterministic per run and attempt; one live run per account is enforced by `open_run`.

    A job killed with its worker may be re-queued by RQ's registry cleanup: under its own id it
    finds its run already final (or running another attempt) and does nothing.
    """
    base = f"sync-account-{run.account_id}-run-{run.id}"
    return base + (f"-retry-{attempt}" if attempt else "")


def backoff_seconds(attempt: int, hinted: float | None, base: float | None = None) -> int:
    if hinted:
        return int(min(max(hinted, 1), BACKOFF_CAP_SECONDS))
    base = BACKOFF_BASE_SECONDS if base is None else base
    return int(max(1, min(base * 2 ** max(0, attempt - 1), BACKOFF_CAP_SECONDS)))


# -- liveness ------------------------------------------------------------------------------------


def stale_after() -> timedelta:
    return timedelta(seconds=current_app.config["SYNC_STALE_SECONDS"])


def heartbeat_fresh(run: SyncRun, now: datetime | None = None) -> bool:
    if run.heartbeat_at is None:
        return False
    return (now or utcnow()) - run.heartbeat_at < stale_after()


def job_gone(run: SyncRun) -> bool:
    """Is the run's job known to be gone from the queue? False when Redis cannot say."""
    if not run.job_id:
        return True
    try:
        return job_state(run.job_id) is None
    except QueueUnavailable:
        return False


def is_live(run: SyncRun) -> bool:
    """Is some process (or the queue) still responsible for this run?

    A queued or retrying run with Redis is the queue's, even when its job was lost (a Redis
    restart): `start_sync` and the reconciler enqueue it again rather than close it.
    """
    if run.is_final:
        return False
    if heartbeat_fresh(run):
        return True
    if run.status == RunStatus.RUNNING:
        return False  # its process stopped beating: dead, whatever Redis says
    # Waiting: the queue's when there is one; without, a thread or the caller held it.
    return bool(current_app.config.get("REDIS_URL"))


def _no_beat_since(run: SyncRun) -> str:
    if run.heartbeat_at is None:
        return INTERRUPTED
    return (
        f"Interrupted: no heartbeat from the process running it since "
        f"{run.heartbeat_at:%-d %b %H:%M:%S} UTC (it stopped before the sync finished)."
    )


def close_run(
    run_id: int,
    error: str,
    *,
    job_id: str | None = None,
    unless_fresh: bool = False,
    attempt: int | None = None,
) -> bool:
    """Close a live run as failed with `error` (status and reason together). Commits.

    `job_id`: only if the run still belongs to that job; `unless_fresh`: not while its
    heartbeat is fresh (a work horse orphaned by its worker still works on it); `attempt`:
    only that running attempt. True when this call closed it.
    """
    stmt = update(SyncRun).where(SyncRun.id == run_id, SyncRun.status.in_(LIVE_STATUSES))
    if job_id is not None:
        stmt = stmt.where(SyncRun.job_id == job_id)
    if unless_fresh:
        stmt = stmt.where(
            (SyncRun.heartbeat_at.is_(None)) | (SyncRun.heartbeat_at < utcnow() - stale_after())
        )
    if attempt is not None:
        stmt = stmt.where(SyncRun.status == RunStatus.RUNNING.value, SyncRun.attempts == attempt)
    values = {
        "status": RunStatus.FAILED.value,
        "error": error,
        "finished_at": utcnow(),
        "next_retry_at": None,
    }
    closed = db.session.execute(stmt.values(**values)).rowcount == 1
    db.session.commit()
    return closed


def active_run(account_id: int) -> SyncRun | None:
    """The account's live run, if any; runs nobody works on any more are closed as failed.

    Commits when it closed one. Never raises for Redis (down, job or execution missing).
    """
    runs = db.session.scalars(
        select(SyncRun)
        .where(SyncRun.account_id == account_id, SyncRun.kind == "meta_sync")
        .where(SyncRun.status.in_(LIVE_STATUSES))
        .order_by(SyncRun.id.desc())
        .execution_options(populate_existing=True)
    ).all()
    live = None
    for run in runs:
        if live is None and is_live(run):
            live = run
            continue
        # A run nobody works on any more (its process died): say so, never leave it "running".
        if close_run(run.id, _no_beat_since(run), unless_fresh=True):
            from core.jobs import delete_job

            delete_job(run.job_id)  # a dead job must not come back as this run
        db.session.refresh(run)
    return live


# -- opening, claiming, finishing ------------------------------------------------------------------


def open_run(
    account: AdAccount,
    since: date | None,
    until: date | None,
    user_id: int | None,
    origin: str = "",
) -> tuple[SyncRun, bool]:
    """(run, created): a new queued run for the window, or the live one. Commits.

    Two requests racing past `active_run` both insert; the partial unique index on live runs
    refuses the second, which then gets the first one's run. A new run of the window an
    interrupted run was syncing starts where that one stopped (`resume_from`).
    """
    default_since, default_until = default_window(account)
    window = Window(since or default_since, until or default_until)
    if window.since > window.until:
        raise SyncRefused("The start date must be on or before the end date.")
    existing = active_run(account.id)
    if existing is not None:
        db.session.commit()
        return existing, False
    run = SyncRun(
        account_id=account.id,
        kind="meta_sync",
        status=RunStatus.QUEUED.value,
        since=window.since,
        until=window.until,
        started_by_id=user_id,
        heartbeat_at=utcnow(),
        details={"origin": origin} if origin else {},
    )
    resume_from(run, account)
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


def resume_from(run: SyncRun, account: AdAccount) -> None:
    """Start `run` where the account's last run stopped, when that run failed on the same
    window (same start, an end no later): its finished days and its half-read window (page
    cursor) carry over, except the days Meta may still restate, which are pulled again."""
    last = db.session.scalars(
        select(SyncRun)
        .where(SyncRun.account_id == account.id, SyncRun.kind == "meta_sync")
        .where(SyncRun.status.not_in(LIVE_STATUSES))
        .order_by(SyncRun.id.desc())
        .limit(1)
    ).first()
    if last is None or last.status != RunStatus.FAILED:
        return
    if last.since != run.since or last.until is None or last.until > run.until:
        return
    done, partial = done_through(last), (last.details or {}).get("partial")
    if done is None and not partial:
        return
    run.resumed_from_id = last.id
    fresh_from = max(run.since, restate_from(account_today(account)))
    carried: dict[str, Any] = {}
    if done is not None:
        carried["done_through"] = min(done, fresh_from - timedelta(days=1)).isoformat()
        if date.fromisoformat(carried["done_through"]) < run.since:
            del carried["done_through"]
    if partial and date.fromisoformat(partial["until"]) < fresh_from:
        carried["partial"] = partial
        run.cursor = last.cursor
    run.details = {**(run.details or {}), **carried}


def claim(run_id: int) -> SyncRun | None:
    """Queued or retrying → running, as one more attempt. Commits. None when the run is
    final or another attempt holds it (a duplicate job, a job of a closed run)."""
    now = utcnow()
    result = db.session.execute(
        update(SyncRun)
        .where(SyncRun.id == run_id, SyncRun.status.in_(WAITING))
        .values(
            status=RunStatus.RUNNING.value,
            attempts=SyncRun.attempts + 1,
            heartbeat_at=now,
            error="",
            next_retry_at=None,
        )
    )
    db.session.commit()
    if result.rowcount != 1:
        return None
    return db.session.get(SyncRun, run_id, populate_existing=True)


def still_running(run: SyncRun, attempt: int) -> bool:
    """Re-read the run's own row: is it still this attempt's?"""
    row = db.session.execute(
        select(SyncRun.status, SyncRun.attempts).where(SyncRun.id == run.id)
    ).one_or_none()
    return row is not None and row.status == RunStatus.RUNNING.value and row.attempts == attempt


def transition(run: SyncRun, attempt: int, **values: Any) -> bool:
    """Write `values` (status and reason together) if the run is still this running attempt.
    Flushes the run's other pending changes first; does not commit."""
    db.session.flush()
    done = db.session.execute(
        update(SyncRun)
        .where(
            SyncRun.id == run.id,
            SyncRun.status == RunStatus.RUNNING.value,
            SyncRun.attempts == attempt,
        )
        .values(**values)
    )
    return done.rowcount == 1


def finish(
    run: SyncRun, status: RunStatus, error: str, attempt: int | None = None
) -> dict[str, Any]:
    """Final status and reason in one conditional write. Commits."""
    values: dict[str, Any] = {
        "status": status.value,
        "error": error,
        "finished_at": utcnow(),
        "next_retry_at": None,
    }
    if status is RunStatus.SUCCEEDED:
        values["progress"] = 100
    written = transition(run, run.attempts if attempt is None else attempt, **values)
    db.session.commit()
    db.session.refresh(run)
    return outcome(run, lost=not written)


def outcome(run: SyncRun, *, lost: bool = False) -> dict[str, Any]:
    return {
        "run_id": run.id,
        "status": run.status,
        "inserted": run.rows_inserted,
        "updated": run.rows_updated,
        "restated": run.rows_restated,
        "error": run.error,
        **({"lost": True} if lost else {}),
    }


# -- the run's memory ------------------------------------------------------------------------------


def done_through(run: SyncRun) -> date | None:
    """The last day of the window finished so far (window by window, across attempts)."""
    value = (run.details or {}).get("done_through")
    return date.fromisoformat(value) if value else None


def failures(run: SyncRun) -> int:
    """Failed attempts in a row since the run last finished a window."""
    return int((run.details or {}).get("failures", 0))


def note(run: SyncRun, **values: Any) -> None:
    """Merge into `run.details` (a new dict, so the JSON column sees the change); a None
    value removes its key."""
    merged = {**(run.details or {}), **values}
    run.details = {k: v for k, v in merged.items() if v is not None}


# -- words -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Joined:
    run: SyncRun

    def __str__(self) -> str:
        return f"joined run {self.run.id} ({started_label(self.run)})"


def started_label(run: SyncRun) -> str:
    """'started 14:02 UTC by Ana Lee' (or by the CLI, the nightly schedule...)."""
    when = run.started_at
    stamp = f"{when:%H:%M} UTC" if when.date() == utcnow().date() else f"{when:%-d %b %H:%M} UTC"
    who = None
    if run.started_by_id:
        from core.models import User

        user = db.session.get(User, run.started_by_id)
        who = (user.name or user.email) if user else None
    origin = (run.details or {}).get("origin", "")
    labels = {"cli": "the command line", "nightly": "the nightly schedule", "demo": "the demo seed"}
    who = who or labels.get(origin)
    return f"started {stamp}" + (f" by {who}" if who else "")


@register_reconciler
def reconcile() -> dict[str, list[int]]:
    """Re-enqueue runs whose job is lost, close runs whose heartbeat is stale (see
    ads/sync_reconcile.py). Every worker queues it on start, after Redis comes back and every
    WORKER_RECONCILE_SECONDS (core/reconcile.py)."""
    from ads.sync_reconcile import reconcile_runs

    return reconcile_runs()
