"""The heartbeat of the sync runs this process is working on (or holds, waiting to start).

A run is live while its `heartbeat_at` is fresh (ads/sync_runs.py), whatever Redis says, so
the process responsible for a run beats it: one daemon thread per process (and app) writes
`heartbeat_at` for every run it holds every SYNC_STALE_SECONDS / 4 on a connection of its own,
also while a page takes long or Meta prepares a report. The write only succeeds while the run
is still live (and, for a running attempt, still this attempt's): when another process closed
the run, the beat finds nothing to update and marks the run lost, and the job stops at its
next page without writing anything final.

A process that dies stops beating; its runs go stale and the next sync (or the reconciler)
closes them as interrupted.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import Counter

from flask import Flask, current_app
from sqlalchemy import update

from ads.models import SyncRun
from core.extensions import db
from core.types import utcnow

log = logging.getLogger(__name__)

LIVE = ("queued", "running", "retrying")


class Beater:
    def __init__(self, app: Flask) -> None:
        self.app = app
        self.pid = os.getpid()
        self._lock = threading.Lock()
        self._held: Counter[int] = Counter()
        self._attempts: dict[int, int] = {}
        self._lost: set[int] = set()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def interval(self) -> float:
        return max(0.2, float(self.app.config["SYNC_STALE_SECONDS"]) / 4)

    def hold(self, run_id: int, attempt: int | None = None) -> None:
        """Beat `run_id` until released (holds nest); with `attempt`, only while the run is
        running that attempt."""
        with self._lock:
            self._held[run_id] += 1
            if attempt is not None:
                self._attempts[run_id] = attempt
            self._lost.discard(run_id)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._loop, name="flightdeck-sync-heartbeat", daemon=True
                )
                self._thread.start()

    def release(self, run_id: int, *, attempt: bool = False) -> None:
        """One hold less; `attempt=True` also ends the attempt's claim (the run may be held on
        as queued or retrying)."""
        with self._lock:
            if attempt:
                self._attempts.pop(run_id, None)
            self._held[run_id] -= 1
            if self._held[run_id] <= 0:
                del self._held[run_id]
                self._attempts.pop(run_id, None)

    def lost(self, run_id: int) -> bool:
        """Did a beat find the run closed (or taken over) by someone else?"""
        return run_id in self._lost

    def beat_now(self) -> None:
        self._wake.set()

    def _loop(self) -> None:
        while True:
            self._wake.wait(self.interval)
            self._wake.clear()
            with self._lock:
                held = dict(self._held)
                attempts = dict(self._attempts)
            if not held:
                continue
            try:
                self._beat(held, attempts)
            except Exception:  # the database is away: the job finds out on its next page
                log.warning("sync heartbeat failed", exc_info=True)

    def _beat(self, held: dict[int, int], attempts: dict[int, int]) -> None:
        now = utcnow()
        with self.app.app_context(), db.engine.begin() as conn:
            for run_id in held:
                stmt = update(SyncRun).where(SyncRun.id == run_id, SyncRun.status.in_(LIVE))
                if run_id in attempts:
                    stmt = stmt.where(
                        SyncRun.status == "running", SyncRun.attempts == attempts[run_id]
                    )
                if conn.execute(stmt.values(heartbeat_at=now)).rowcount == 0:
                    with self._lock:
                        if run_id in self._held:
                            self._lost.add(run_id)


def beater(app: Flask | None = None) -> Beater:
    """This process's beater for the app (a forked work horse starts its own)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    found = app.extensions.get("flightdeck_sync_beater")
    if found is None or found.pid != os.getpid():
        with _create_lock:
            found = app.extensions.get("flightdeck_sync_beater")
            if found is None or found.pid != os.getpid():
                found = app.extensions["flightdeck_sync_beater"] = Beater(app)
    return found


_create_lock = threading.Lock()
