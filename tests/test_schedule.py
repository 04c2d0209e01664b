"""The periodic schedule enqueues each occurrence exactly once across workers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from redis import Redis
from rq import Queue

from core.schedule import SCHEDULE, Periodic, build_jobs, due_jobs


def test_nightly_sync_is_scheduled():
    names = {p.name: p for p in SCHEDULE}
    assert names["nightly-meta-sync"].func == "ads.sync.sync_all_accounts"
    assert build_jobs()  # every dotted path imports


def test_each_occurrence_is_enqueued_once_across_workers(redis_url):
    conn = Redis.from_url(redis_url)
    spec = (Periodic("echo-every-minute", "core.jobs.echo", "* * * * *", queue="low"),)
    worker_a, worker_b = build_jobs(spec), build_jobs(spec)
    past = datetime.now(UTC) - timedelta(seconds=5)
    for jobs in (worker_a, worker_b):
        jobs[0][1].next_enqueue_time = past

    first = due_jobs(worker_a, conn)
    second = due_jobs(worker_b, conn)

    assert first == [f"cron-echo-every-minute-{int(past.timestamp())}"]
    assert second == []
    assert Queue("low", connection=conn).count == 1
    # both move on to the next occurrence, so nothing is due again right away
    assert due_jobs(worker_a, conn) == []
    conn.close()


def test_the_sync_reconciler_is_registered_and_nightly_times_are_known(app):
    from ads.sync_runs import reconcile
    from core.jobs import RECONCILERS
    from core.schedule import next_occurrence

    # Every worker queues the registered reconcilers on start, after Redis comes back and
    # every WORKER_RECONCILE_SECONDS (core/reconcile.py), rather than the cron schedule.
    assert reconcile in RECONCILERS
    assert "sync-reconcile" not in {p.name for p in SCHEDULE}
    after = datetime(2026, 12, 4, 1, 0, tzinfo=UTC)
    found = next_occurrence("nightly-meta-sync", after)
    local = found.astimezone()
    assert (local.hour, local.minute) == (2, 30) and after <= found < after + timedelta(days=1)
    assert next_occurrence("nightly-meta-sync", found) == found  # at or after
    assert next_occurrence("no-such-job", after) is None
