"""Runs the reconcilers registered with `core.jobs.register_reconciler` for the worker.

They repair what an outage or a killed process left behind (runs whose job vanished, runs whose
heartbeat stopped). The worker runs them on start, after every reconnection to Redis, and every
WORKER_RECONCILE_SECONDS, each in its own app context and transaction.
"""

from __future__ import annotations

import logging
import threading

from flask import Flask

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


class ReconcilerThread(threading.Thread):
    """Runs the reconcilers at once, every `interval` seconds, and whenever kicked."""

    def __init__(self, app: Flask, stop: threading.Event, interval: float) -> None:
        super().__init__(name="flightdeck-reconcile", daemon=True)
        self.app, self.stop, self.interval = app, stop, interval
        self._kick = threading.Event()

    def kick(self) -> None:
        self._kick.set()

    def run(self) -> None:
        while not self.stop.is_set():
            run_reconcilers(self.app)
            self._kick.wait(self.interval)
            self._kick.clear()
