"""Runs the reconcilers registered with `core.jobs.register_reconciler` for the worker.

They repair what an outage or a killed process left behind (runs whose job vanished, runs whose
heartbeat stopped). The worker asks for a run on start, after every reconnection to Redis, and
every WORKER_RECONCILE_SECONDS: it queues `reconcile_job`, so the reconcilers run in a work horse
like any job, each in its own app context and transaction. Never in a thread of the worker's
main process: a thread holding a lock (the database pool's, an import's) while the worker forks
its horse would leave that lock held in the horse for good.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from flask import Flask, current_app
from redis import Redis

from core.errors import first_line, outage_of, rollback_quietly
from core.extensions import db
from core.jobs import RECONCILERS

log = logging.getLogger("flightdeck.worker")


def run_reconcilers(app: Flask) -> int:
    """Run every registered reconciler once, each in its own app context; return how many
    succeeded. A failing one (database or Redis away) is logged and tried again next time."""
    ok = 0
    for func in list(RECONCILERS):
        label = f"{func.__module__}.{func.__qualname__}"
        with app.app_context():
            try:
                func()
                db.session.commit()
                ok += 1
            except Exception as exc:
                rollback_quietly()
                what = outage_of(exc)
                if what is None:
                    log.exception("reconciler %s failed", label)
                else:  # expected during an outage: one line, not a traceback every period
                    log.warning("reconciler %s: %s unavailable: %s", label, what, first_line(exc))
            finally:
                db.session.remove()
    return ok


def reconcile_job() -> int:
    """The job the worker queues: every registered reconciler, in this work horse."""
    return run_reconcilers(current_app._get_current_object())  # type: ignore[attr-defined]


def queue_reconcile(conn: Redis, queue: str) -> Callable[[], None]:
    """What the worker's ReconcilerThread does each time: queue one `reconcile_job`."""
    from rq import Queue

    def dispatch() -> None:
        Queue(queue, connection=conn).enqueue(
            reconcile_job, job_id=f"reconcile-{int(time.time())}", job_timeout=600
        )

    return dispatch


class ReconcilerThread(threading.Thread):
    """Calls `dispatch` at once, every `interval` seconds, and whenever kicked (the worker
    passes `queue_reconcile(...)`; errors, e.g. Redis away, are logged and retried later)."""

    def __init__(
        self,
        app: Flask,
        stop: threading.Event,
        interval: float,
        dispatch: Callable[[], object] | None = None,
    ) -> None:
        super().__init__(name="flightdeck-reconcile", daemon=True)
        self.app, self.stop, self.interval = app, stop, interval
        self.dispatch = dispatch or (lambda: run_reconcilers(app))
        self._kick = threading.Event()

    def kick(self) -> None:
        self._kick.set()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.dispatch()
            except Exception as exc:
                log.warning("reconcile not queued: %s", first_line(exc))
            self._kick.wait(self.interval)
            self._kick.clear()
