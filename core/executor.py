"""Jobs off the request without Redis: a few threads in this process (the embedded default).

With `REDIS_URL` unset and `JOBS_EMBEDDED = "thread"`, `core.jobs.enqueue` hands jobs to the
app's `BackgroundExecutor`: a bounded thread pool, each job in its own app context (so its own
database session, removed afterwards), a job id run at most once at a time, delayed jobs on
timers (retries), and the job's failure callback called as RQ would call it. The request that
enqueued returns at once; `wait_for_jobs()` lets tests (and a shutdown) wait for the work.

Jobs live only as long as this process: a run they leave unfinished stops beating its
heartbeat and is closed as interrupted by the next sync of its account (ads/sync_runs.py).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from flask import Flask

log = logging.getLogger(__name__)

FailureCallback = Callable[..., None]


@dataclass
class EmbeddedJob:
    """What a failure callback is given in place of an RQ job: its id and arguments."""

    id: str
    args: tuple = ()
    kwargs: dict[str, Any] = field(default_factory=dict)


class BackgroundExecutor:
    def __init__(self, app: Flask, workers: int = 2) -> None:
        self.app = app
        self.pid = os.getpid()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="flightdeck-job")
        self._lock = threading.Condition()
        self._states: dict[str, str] = {}  # job id -> queued | scheduled | started
        self._timers: dict[str, threading.Timer] = {}

    def state(self, job_id: str) -> str | None:
        with self._lock:
            return self._states.get(job_id)

    def submit(
        self,
        job_id: str,
        func: Callable[..., Any],
        args: tuple,
        kwargs: dict[str, Any],
        on_failure: FailureCallback | None = None,
    ) -> bool:
        """Run the job on a pool thread; False when a job of that id is already waiting or
        running (deterministic ids: one at a time)."""
        with self._lock:
            if self._states.get(job_id) in ("queued", "started"):
                return False
            self._states[job_id] = "queued"
            timer = self._timers.pop(job_id, None)
        if timer is not None:
            timer.cancel()
        self._pool.submit(self._run, job_id, func, args, kwargs, on_failure)
        return True

    def submit_in(
        self,
        delay: float,
        job_id: str,
        func: Callable[..., Any],
        args: tuple,
        kwargs: dict[str, Any],
        on_failure: FailureCallback | None = None,
    ) -> None:
        """Run the job after `delay` seconds (a retry): it waits on a timer, not a thread."""

        def fire() -> None:
            with self._lock:
                if self._timers.pop(job_id, None) is None:
                    return  # cancelled
                self._states.pop(job_id, None)
            self.submit(job_id, func, args, kwargs, on_failure)

        timer = threading.Timer(max(0.0, delay), fire)
        timer.daemon = True
        with self._lock:
            self._states[job_id] = "scheduled"
            self._timers[job_id] = timer
        timer.start()

    def _run(
        self,
        job_id: str,
        func: Callable[..., Any],
        args: tuple,
        kwargs: dict[str, Any],
        on_failure: FailureCallback | None,
    ) -> None:
        from core.extensions import db

        with self._lock:
            self._states[job_id] = "started"
        try:
            with self.app.app_context():
                try:
                    func(*args, **kwargs)
                except Exception as exc:  # reported like a failed RQ job, never raised
                    log.exception("embedded job %s failed", job_id)
                    if on_failure is not None:
                        try:
                            job = EmbeddedJob(job_id, args, kwargs)
                            on_failure(job, None, type(exc), exc, exc.__traceback__)
                        except Exception:
                            log.exception("failure callback of embedded job %s failed", job_id)
                finally:
                    db.session.remove()
        finally:
            with self._lock:
                if self._states.get(job_id) == "started":
                    del self._states[job_id]
                self._lock.notify_all()

    def join(self, timeout: float = 60.0, *, scheduled: bool = True) -> bool:
        """Wait until no job is waiting or running (and, with `scheduled`, none is due later).
        True when idle within `timeout`."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                busy = [s for s in self._states.values() if scheduled or s != "scheduled"]
                if not busy:
                    return True
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._lock.wait(min(left, 0.1))

    def shutdown(self) -> None:
        """Cancel delayed jobs and wait for running ones."""
        with self._lock:
            timers = list(self._timers.values())
            self._timers.clear()
            for job_id, state in list(self._states.items()):
                if state == "scheduled":
                    del self._states[job_id]
        for timer in timers:
            timer.cancel()
        self._pool.shutdown(wait=True)


def executor_for(app: Flask) -> BackgroundExecutor:
    """The app's executor in this process (a forked child gets its own)."""
    ext = app.extensions
    executor = ext.get("flightdeck_executor")
    if executor is None or executor.pid != os.getpid():
        with _create_lock:
            executor = ext.get("flightdeck_executor")
            if executor is None or executor.pid != os.getpid():
                workers = int(app.config.get("JOBS_EMBEDDED_WORKERS", 2))
                executor = ext["flightdeck_executor"] = BackgroundExecutor(app, workers)
    return executor


_create_lock = threading.Lock()
