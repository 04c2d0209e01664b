"""The reconciler: the sync ledger and the job queue agree again after a crash or a restart.

Run by every worker when it starts and every five minutes by the periodic schedule
(core/schedule.py), and safe to run anywhere at any time (every change is conditional):

- a running run whose heartbeat is stale is closed as interrupted (its process died; the next
  run of its window resumes where it stopped);
- a queued or retrying run that no process holds (stale heartbeat) and whose job no longer
  exists in Redis (lost in a Redis restart, or ended without touching its run) is enqueued
  again, at its retry time if that is still ahead.

While Redis does not answer, only the first kind is handled.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from ads.models import RunStatus, SyncRun
from ads.sync_runs import (
    LIVE_STATUSES,
    WAITING,
    _no_beat_since,
    close_run,
    heartbeat_fresh,
    job_id_for,
)
from core.extensions import db
from core.jobs import ACTIVE, QueueUnavailable, job_state
from core.types import utcnow

log = logging.getLogger(__name__)


def reconcile_runs() -> dict[str, list[int]]:
    closed: list[int] = []
    requeued: list[int] = []
    redis_down = False
    runs = db.session.scalars(
        select(SyncRun)
        .where(SyncRun.kind == "meta_sync", SyncRun.status.in_(LIVE_STATUSES))
        .order_by(SyncRun.id)
        .execution_options(populate_existing=True)
    ).all()
    for run in runs:
        if heartbeat_fresh(run):
            continue  # a process is on it (or holds it, waiting)
        if run.status == RunStatus.RUNNING or not current_app.config.get("REDIS_URL"):
            if close_run(run.id, _no_beat_since(run), unless_fresh=True):
                closed.append(run.id)
            continue
        if redis_down:
            continue
        try:
            state = job_state(run.job_id) if run.job_id else None
        except QueueUnavailable:
            redis_down = True
            continue
        if state in ACTIVE:
            continue
        if _requeue(run, ended=state is not None):
            requeued.append(run.id)
    if closed or requeued:
        log.warning("sync reconcile: closed %s, queued again %s", closed, requeued)
    return {"closed": closed, "requeued": requeued}


def _requeue(run: SyncRun, *, ended: bool) -> bool:
    """Enqueue a waiting run's job again (under a new id when its old job ended)."""
    from ads.sync import JOB_TIMEOUT, on_job_failed, sync_account
    from core.jobs import enqueue, enqueue_in

    old = run.job_id
    job_id = old
    if ended or not old:
        count = int((run.details or {}).get("requeued", 0)) + 1
        job_id = f"{job_id_for(run, run.attempts)}-requeue-{count}"
        run.details = {**(run.details or {}), "requeued": count}
    taken = db.session.execute(
        update(SyncRun)
        .where(SyncRun.id == run.id, SyncRun.status.in_(WAITING), SyncRun.job_id == old)
        .values(job_id=job_id, details=run.details)
    ).rowcount
    db.session.commit()
    if taken != 1:
        return False  # another reconciler (or the run itself) moved first
    args = (sync_account, run.account_id, run.since, run.until)
    options = {"run_id": run.id, "job_id": job_id, "timeout": JOB_TIMEOUT}
    options["on_failure"] = on_job_failed
    wait = (run.next_retry_at - utcnow()) if run.next_retry_at else timedelta(0)
    try:
        if wait > timedelta(0):
            enqueue_in(wait, *args, **options)
        else:
            enqueue(*args, queue="default", **options)
    except QueueUnavailable:
        log.warning("sync run %s not queued again: Redis unavailable", run.id)
        return False
    return True
