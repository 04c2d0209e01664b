"""Job plumbing: RQ when REDIS_URL is set, else a background thread, or the caller itself.

Jobs are plain functions that take ids (never ORM objects) and run inside an app context.
Where a job runs (`job_mode()`):

- "rq": `REDIS_URL` is set; `flask --app wsgi worker` runs it, its `FlaskWorker` pushing an
  app context in each work horse (core/worker.py).
- "thread": no Redis (the embedded default, `JOBS_EMBEDDED = "thread"`): core/executor.py runs
  it on a small thread pool in this process; the request that enqueued returns at once.
- "inline": no Redis and `JOBS_EMBEDDED = "inline"` (the test suite): in the caller, now.
- "here": inside `running_here()` (the CLI's `ads sync`): in the caller, now, and a job that
  wants to come back later leaves that to the caller (`enqueue_in` returns None).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import Flask, current_app
from redis import Redis
from redis.exceptions import RedisError
from rq import Callback, Queue, Retry
from rq.job import Job, JobStatus

from core.executor import executor_for

log = logging.getLogger(__name__)

ACTIVE_STATUSES = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED}
ACTIVE = {s.value for s in ACTIVE_STATUSES}
_here: ContextVar[bool] = ContextVar("flightdeck_jobs_here", default=False)


class QueueUnavailable(RuntimeError):
    """Redis (the job queue) cannot be reached: nothing was queued."""


class WorkHorseKilled(Exception):
    """The process running a job died (SIGKILL, out of memory...): given to its failure callback."""


@dataclass(frozen=True)
class JobHandle:
    """What callers get back whichever way the job ran."""

    id: str
    inline: bool
    status: str
    result: Any = None
    error: str | None = None


@contextlib.contextmanager
def running_here() -> Iterator[None]:
    """Jobs enqueued inside run in the caller, which also handles their retries."""
    token = _here.set(True)
    try:
        yield
    finally:
        _here.reset(token)


def job_mode(app: Flask | None = None) -> str:
    if _here.get():
        return "here"
    app = app or current_app
    if app.config.get("REDIS_URL"):
        return "rq"
    return "thread" if app.config.get("JOBS_EMBEDDED", "thread") == "thread" else "inline"


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


def queue_available() -> bool:
    """False when jobs go to Redis and Redis does not answer."""
    if job_mode() != "rq":
        return True
    try:
        return bool(redis_connection().ping())
    except RedisError:
        return False


def _run_now(job_label: str, func: Callable[..., Any], args: tuple, kwargs: dict) -> JobHandle:
    try:
        result = func(*args, **kwargs)
    except Exception as exc:  # inline jobs report like queued ones
        log.exception("inline job %s failed", job_label)
        return JobHandle(job_label, True, JobStatus.FAILED.value, error=str(exc))
    return JobHandle(job_label, True, JobStatus.FINISHED.value, result=result)


def enqueue(
    func: Callable[..., Any],
    *args: Any,
    job_id: str | None = None,
    queue: str = "default",
    timeout: int = 1800,
    retry: Retry | None = None,
    on_failure: Callable[..., Any] | None = None,
    **kwargs: Any,
) -> JobHandle:
    """Run `func(*args, **kwargs)` as a job. Raises QueueUnavailable when Redis is down.

    With a deterministic `job_id`, a job that is already queued or running is returned
    instead of starting a second one (one sync per account at a time). `on_failure(job,
    connection, type, value, traceback)` runs when the job raises or its process dies.
    """
    mode = job_mode()
    label = job_id or getattr(func, "__name__", "job")
    if mode in ("inline", "here"):
        return _run_now(label, func, args, kwargs)
    if mode == "thread":
        executor = executor_for(current_app._get_current_object())  # type: ignore[attr-defined]
        if not executor.submit(label, func, args, kwargs, on_failure):
            return JobHandle(label, False, executor.state(label) or JobStatus.QUEUED.value)
        return JobHandle(label, False, JobStatus.QUEUED.value)

    q = get_queue(queue)
    try:
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
            on_failure=Callback(on_failure) if on_failure else None,
            **kwargs,
        )
        return JobHandle(job.id, False, job.get_status().value)
    except RedisError as exc:
        raise QueueUnavailable(f"the job queue (Redis) is unavailable: {exc}") from None


def enqueue_in(
    delay: timedelta,
    func: Callable[..., Any],
    *args: Any,
    job_id: str,
    queue: str = "default",
    timeout: int = 1800,
    on_failure: Callable[..., Any] | None = None,
    **kwargs: Any,
) -> JobHandle | None:
    """Run the job after `delay` (never sleeping in a worker). None when nobody would run it
    later ("inline", "here": the caller decides). Raises QueueUnavailable."""
    mode = job_mode()
    if mode in ("inline", "here"):
        return None
    if mode == "thread":
        executor = executor_for(current_app._get_current_object())  # type: ignore[attr-defined]
        executor.submit_in(delay.total_seconds(), job_id, func, args, kwargs, on_failure)
        return JobHandle(job_id, False, JobStatus.SCHEDULED.value)
    try:
        job = get_queue(queue).enqueue_in(
            delay,
            func,
            *args,
            job_id=job_id,
            job_timeout=timeout,
            result_ttl=24 * 3600,
            failure_ttl=7 * 24 * 3600,
            on_failure=Callback(on_failure) if on_failure else None,
            **kwargs,
        )
    except RedisError as exc:
        raise QueueUnavailable(f"the job queue (Redis) is unavailable: {exc}") from None
    return JobHandle(job.id, False, JobStatus.SCHEDULED.value)


def job_state(job_id: str) -> str | None:
    """The job's status ("queued", "scheduled", "started"...); None when it no longer exists.

    Asks Redis whenever REDIS_URL is set (also from `running_here()`), else this process's
    executor. Raises QueueUnavailable when Redis does not answer (the caller cannot know).
    """
    conn = redis_connection()
    if conn is None:
        if job_mode() == "thread":
            return executor_for(current_app._get_current_object()).state(job_id)  # type: ignore[attr-defined]
        return None
    try:
        job = Job.fetch_many([job_id], connection=conn)[0]
        if job is None:
            return None
        status = job.get_status(refresh=False)
    except RedisError as exc:
        raise QueueUnavailable(str(exc)) from None
    except Exception:  # a half-written or unreadable job hash: as good as gone
        log.warning("job %s unreadable", job_id, exc_info=True)
        return None
    return status.value if status is not None else None


def delete_job(job_id: str) -> None:
    """Drop a job (queued, scheduled or dead) if it exists; never raises."""
    conn = redis_connection()
    if conn is None or not job_id:
        return
    try:
        job = Job.fetch_many([job_id], connection=conn)[0]
        if job is not None:
            job.delete()
    except Exception:  # missing execution, missing job, Redis down: nothing to drop
        log.info("job %s not deleted", job_id, exc_info=True)


def wait_for_jobs(app: Flask | None = None, timeout: float = 60.0) -> bool:
    """Wait for this process's background jobs ("thread" mode), delayed ones included."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    executor = app.extensions.get("flightdeck_executor")
    return True if executor is None else executor.join(timeout)


def fetch_job(job_id: str) -> Job | None:
    conn = redis_connection()
    if conn is None:
        return None
    try:
        return Job.fetch_many([job_id], connection=conn)[0]
    except RedisError:
        return None


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
