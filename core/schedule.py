"""Periodic jobs as data, run by every `flask --app wsgi worker`.

Each worker runs the loop in a thread; a Redis SET NX claim per occurrence makes sure each
scheduled run is enqueued exactly once however many workers there are, under a deterministic
job id (`cron-<name>-<unix time>`). The jobs themselves are idempotent as well.

Repairs after a crash or an outage (the sync ledger's `ads.sync_runs.reconcile`) are not here:
they are registered with `core.jobs.register_reconciler`, and every worker queues them on start,
after Redis comes back and every WORKER_RECONCILE_SECONDS (core/reconcile.py).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from croniter import croniter
from flask import Flask
from rq import Queue
from rq.cron import CronJob
from werkzeug.utils import import_string

from core.jobs import redis_connection

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Periodic:
    name: str
    func: str  # dotted path, imported when the loop starts
    cron: str  # server local time, crontab syntax
    queue: str = "low"
    timeout: int = 6 * 3600


SCHEDULE: tuple[Periodic, ...] = (
    # Every active Meta account: re-pull the trailing 28 days (attribution window).
    Periodic("nightly-meta-sync", "ads.sync.sync_all_accounts", "30 2 * * *"),
)


def next_occurrence(name: str, after: datetime) -> datetime | None:
    """When the periodic job `name` next runs at or after `after` (UTC; cron is server time)."""
    spec = next((p for p in SCHEDULE if p.name == name), None)
    if spec is None:
        return None
    local = after.astimezone().replace(tzinfo=None)
    found = croniter(spec.cron, local - _SECOND).get_next(datetime)
    return found.astimezone().astimezone(UTC)


_SECOND = timedelta(seconds=1)


def claim_key(name: str, timestamp: int) -> str:
    return f"flightdeck:cron:{name}:{timestamp}"


def due_jobs(jobs: list[tuple[Periodic, CronJob]], conn) -> list[str]:
    """Enqueue each due occurrence once across all workers; return the job ids enqueued."""
    enqueued = []
    for spec, cron_job in jobs:
        if not cron_job.should_run():
            continue
        occurrence = int(cron_job.next_enqueue_time.timestamp())
        if conn.set(claim_key(spec.name, occurrence), "1", nx=True, ex=3 * 24 * 3600):
            job_id = f"cron-{spec.name}-{occurrence}"
            Queue(spec.queue, connection=conn).enqueue(
                cron_job.func, job_id=job_id, job_timeout=spec.timeout
            )
            enqueued.append(job_id)
            log.info("scheduled %s enqueued as %s", spec.name, job_id)
        # Next occurrence after now (not after the one just handled): a worker that was down
        # does not replay every missed occurrence, and all workers agree on the next time.
        cron_job.set_enqueue_time(datetime.now(UTC))
    return enqueued


def build_jobs(schedule: tuple[Periodic, ...] = SCHEDULE) -> list[tuple[Periodic, CronJob]]:
    return [
        (spec, CronJob(queue_name=spec.queue, func=import_string(spec.func), cron=spec.cron))
        for spec in schedule
    ]


def start_schedule_thread(app: Flask, stop: threading.Event) -> threading.Thread:
    conn = redis_connection(app)
    jobs = build_jobs()

    def loop() -> None:
        while not stop.is_set():
            try:
                due_jobs(jobs, conn)
            except Exception:  # a Redis blip must not kill the scheduler thread
                log.exception("schedule loop error")
            stop.wait(30)

    thread = threading.Thread(target=loop, name="flightdeck-schedule", daemon=True)
    thread.start()
    return thread
