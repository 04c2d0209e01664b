"""Job plumbing: enqueue to RQ when REDIS_URL is set, run inline otherwise.

Jobs are plain functions that take ids (never ORM objects) and run inside an app context:
inline they share the caller's; under `flask --app wsgi worker` the `FlaskWorker`
(core/worker.py) pushes one in each work horse.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app
from redis import Redis
from rq import Queue, Retry
from rq.job import Job, JobStatus

log = logging.getLogger(__name__)

ACTIVE_STATUSES = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED}


@dataclass(frozen=True)
class JobHandle:
    """What callers get back whichever way the job ran."""

    id: str
    inline: bool
    status: str
    result: Any = None
    error: str | None = None


def redis_connection(app: Flask | None = None) -> Redis | None:
    app = app or current_app
    url = app.config.get("REDIS_URL")
    if not url:
        return None
    ext = app.extensions.setdefault("flightdeck_redis", {})
    if url not in ext:
        # A Redis that is down answers within seconds instead of hanging the page; the worker
        # raises the read timeout itself for its blocking dequeue.
        timeout = app.config.get("REDIS_CONNECT_TIMEOUT", 5.0)
        ext[url] = Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout * 2)
    return ext[url]


def get_queue(name: str = "default", app: Flask | None = None) -> Queue | None:
    conn = redis_connection(app)
    return Queue(name, connection=conn) if conn is not None else None


def enqueue(
    func: Callable[..., Any],
    *args: Any,
    job_id: str | None = None,
    queue: str = "default",
    timeout: int = 1800,
    retry: Retry | None = None,
    **kwargs: Any,
) -> JobHandle:
    """Run `func(*args, **kwargs)` as a job.

    With a deterministic `job_id`, a job that is already queued or running is returned
    instead of starting a second one (one sync per account at a time).
    """
    q = get_queue(queue)
    if q is None:
        job_label = job_id or getattr(func, "__name__", "job")
        try:
            result = func(*args, **kwargs)
        except Exception as exc:  # inline jobs report like queued ones
            log.exception("inline job %s failed", job_label)
            return JobHandle(job_label, True, JobStatus.FAILED.value, error=str(exc))
        return JobHandle(job_label, True, JobStatus.FINISHED.value, result=result)

    if job_id:
        existing = Job.fetch_many([job_id], connection=q.connection)[0]
        if existing is not None and existing.get_status(refresh=True) in ACTIVE_STATUSES:
            return JobHandle(existing.id, False, existing.get_status().value)
    job = q.enqueue(
        func,
        *args,
        job_id=job_id,
        job_timeout=timeout,
        retry=retry,
        result_ttl=24 * 3600,
        failure_ttl=7 * 24 * 3600,
        **kwargs,
    )
    return JobHandle(job.id, False, job.get_status().value)


def fetch_job(job_id: str) -> Job | None:
    conn = redis_connection()
    if conn is None:
        return None
    return Job.fetch_many([job_id], connection=conn)[0]


# Callables the worker runs on start, after Redis comes back, and every
# WORKER_RECONCILE_SECONDS (core/worker.py): they repair what an outage or a killed worker left
# behind (e.g. runs whose job vanished). Each runs in an app context; errors are logged.
RECONCILERS: list[Callable[[], Any]] = []


def register_reconciler(func: Callable[[], Any]) -> Callable[[], Any]:
    """Add `func` to the worker's reconcilers (once; usable as a decorator)."""
    if func not in RECONCILERS:
        RECONCILERS.append(func)
    return func


def echo(text: str) -> dict[str, str]:
    """A trivial job used to prove the plumbing: it needs the app context and the DB."""
    from sqlalchemy import text as sql

    from core.extensions import db

    one = db.session.execute(sql("SELECT 1")).scalar_one()
    return {"echo": text, "app": current_app.name, "db": str(one)}
