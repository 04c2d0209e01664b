"""Job plumbing: enqueue to RQ when REDIS_URL is set, run inline otherwise.

Jobs are plain functions that take ids (never ORM objects) and run inside an app context:
inline they share the caller's; under `flask --app wsgi worker` the `FlaskWorker` pushes
one in each work horse.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app
from redis import Redis
from rq import Queue, Retry, Worker
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
        ext[url] = Redis.from_url(url)
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


class FlaskWorker(Worker):
    """An RQ worker whose work horses run each job inside the Flask app context."""

    app: Flask

    def perform_job(self, job: Job, queue: Queue, execution: Any) -> bool:  # type: ignore[override]
        from core.extensions import db

        with self.app.app_context():
            # The horse is a fork: never reuse the parent's pooled database connections.
            db.engine.dispose(close=False)
            try:
                return super().perform_job(job, queue, execution)
            finally:
                db.session.remove()


def make_worker(app: Flask, queues: list[str] | None = None, name: str | None = None) -> Worker:
    conn = redis_connection(app)
    if conn is None:
        raise RuntimeError("REDIS_URL is not set: jobs run inline, there is nothing to work on.")
    names = queues or list(app.config["RQ_QUEUES"])
    worker = FlaskWorker([Queue(n, connection=conn) for n in names], connection=conn, name=name)
    worker.app = app
    return worker


def echo(text: str) -> dict[str, str]:
    """A trivial job used to prove the plumbing: it needs the app context and the DB."""
    from sqlalchemy import text as sql

    from core.extensions import db

    one = db.session.execute(sql("SELECT 1")).scalar_one()
    return {"echo": text, "app": current_app.name, "db": str(one)}
