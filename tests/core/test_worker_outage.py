"""`flask --app wsgi worker` outlives Redis: a real worker process against a redis-server of the
test's own, which the test kills and restarts (empty, as without persistence) on the same port.

Timings are shortened through the environment (a job heartbeat every 2 s instead of 30 s, at
most 1 s between reconnection attempts): RQ's own worker quit at the first heartbeat Redis
missed; this one must not, whatever the timings.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from uuid import uuid4

import pytest
from rq import Queue, Worker
from rq.job import Job

from config import BASE_DIR
from tests.core.outages import PrivateRedis, stop_process, wait_until

pytestmark = pytest.mark.redis

OUTAGE_SECONDS = 12  # six missed job heartbeats, several reconnection attempts


@pytest.fixture
def redis_server() -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    server.start()
    yield server
    server.kill()


class RunningWorker:
    def __init__(self, database_url: str, redis: PrivateRedis, tmp_path: Path) -> None:
        self.name = f"outage-{uuid4().hex[:8]}"
        self.log_path = tmp_path / "worker.log"
        self.reconcile_log = tmp_path / "reconciled.log"
        self.reconcile_log.touch()
        env = {
            **os.environ,
            "FLIGHTDECK_ENV": "development",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis.url,
            "WORKER_MONITOR_SECONDS": "2",
            "WORKER_MAX_BACKOFF_SECONDS": "1",
            "WORKER_RECONCILE_SECONDS": "600",  # so each run below comes from a (re)connection
            "FLIGHTDECK_TEST_RECONCILE_LOG": str(self.reconcile_log),
        }
        self.log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.core.worker_entry", "--app", "wsgi", "worker"]
            + ["--name", self.name],
            cwd=BASE_DIR,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def alive(self) -> bool:
        return self.process.poll() is None

    def registered(self, redis: PrivateRedis) -> bool:
        return any(w.name == self.name for w in Worker.all(connection=redis.client()))

    def reconciles(self) -> int:
        return len(self.reconcile_log.read_text().splitlines())

    def output(self) -> str:
        self.log.flush()
        return self.log_path.read_text()

    def stop(self) -> int:
        code = stop_process(self.process)
        if not self.log.closed:
            self.log.close()
        return code


@pytest.fixture
def worker(database_url, redis_server, tmp_path) -> Iterator[RunningWorker]:
    running = RunningWorker(database_url, redis_server, tmp_path)
    yield running
    running.stop()


def finished(job: Job) -> bool:
    return job.get_status(refresh=True).value == "finished"


def test_a_running_job_and_the_worker_outlive_a_redis_restart(redis_server, worker, tmp_path):
    wait_until(lambda: worker.registered(redis_server), 30, "the worker to register")
    wait_until(lambda: worker.reconciles() >= 1, 10, "the reconcilers to run on start")
    queue = Queue("default", connection=redis_server.client())
    marker = tmp_path / "long-job-done"
    long_job = queue.enqueue(
        "tests.core.worker_jobs.slow_marker", str(marker), OUTAGE_SECONDS + 8, job_timeout=300
    )
    wait_until(lambda: long_job.get_status(refresh=True).value == "started", 30, "the job")
    reconciled = worker.reconciles()

    redis_server.kill()
    time.sleep(OUTAGE_SECONDS)
    assert worker.alive(), worker.output()[-3000:]
    redis_server.start()  # same port, nothing kept

    # The job was never cut: it ends in the same worker process and its result is recorded.
    wait_until(marker.exists, 60, "the long job to finish")
    assert int(marker.read_text()) == worker.process.pid
    wait_until(lambda: finished(long_job), 30, "the long job's result")
    # The same worker takes new jobs, and RQ's scheduler (delayed jobs) works again.
    fresh = queue.enqueue("tests.core.worker_jobs.whoami")
    wait_until(lambda: finished(fresh), 60, "a job queued after the restart")
    assert fresh.return_value() == {"worker_pid": worker.process.pid, "app": "flightdeck"}
    assert Job.fetch(fresh.id, connection=redis_server.client()).worker_name == worker.name
    delayed = queue.enqueue_in(timedelta(seconds=1), "tests.core.worker_jobs.whoami")
    wait_until(lambda: finished(delayed), 60, "a delayed job (RQ's scheduler)")
    # Registered again (the restarted Redis had forgotten it), reconciled after reconnecting.
    assert worker.registered(redis_server)
    assert worker.reconciles() > reconciled
    log = worker.output()
    assert "unreachable" in log and "is back after" in log
    assert "quitting" not in log  # RQ's "found an unhandled exception, quitting..."

    assert worker.stop() == 0  # SIGTERM: a clean stop


def test_a_worker_started_before_redis_waits_and_one_that_loses_a_job_carries_on(
    database_url, tmp_path
):
    redis_server = PrivateRedis()  # not started yet
    worker = RunningWorker(database_url, redis_server, tmp_path)
    try:
        wait_until(lambda: worker.output().count("unreachable") >= 2, 30, "reconnection attempts")
        assert worker.alive(), worker.output()[-3000:]
        redis_server.start()
        wait_until(lambda: worker.registered(redis_server), 30, "the worker to register")
        queue = Queue("default", connection=redis_server.client())
        marker = tmp_path / "short-job-done"
        short = queue.enqueue("tests.core.worker_jobs.slow_marker", str(marker), 3)
        wait_until(lambda: short.get_status(refresh=True).value == "started", 30, "the job")

        redis_server.kill()  # the job ends while Redis is away: its outcome cannot be written
        wait_until(marker.exists, 30, "the job to end")
        time.sleep(4)
        assert worker.alive(), worker.output()[-3000:]
        redis_server.start()

        fresh = Queue("default", connection=redis_server.client()).enqueue(
            "tests.core.worker_jobs.whoami"
        )
        wait_until(lambda: finished(fresh), 60, "a job queued after the restart")
        assert fresh.return_value()["worker_pid"] == worker.process.pid
        assert worker.reconciles() >= 2  # on start, and after Redis came back
    finally:
        if worker.alive():
            worker.process.send_signal(signal.SIGTERM)
        code = worker.stop()
        redis_server.kill()
    assert code == 0, worker.output()[-3000:]


def children_of(pid: int) -> set[int]:
    """Live (not zombie) processes whose parent is `pid`, read from /proc."""
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit() and _stat(int(entry)) and _stat(int(entry))[1] == pid:
            found.add(int(entry))
    return found


def _stat(pid: int) -> tuple[str, int] | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (fields[0], int(fields[1])) if fields[0] != "Z" else None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl and /proc are Linux's")
def test_a_killed_worker_takes_its_work_horse_and_scheduler_along(redis_server, worker, tmp_path):
    wait_until(lambda: worker.registered(redis_server), 30, "the worker to register")
    marker = tmp_path / "orphan-wrote"
    queue = Queue("default", connection=redis_server.client())
    job = queue.enqueue("tests.core.worker_jobs.slow_marker", str(marker), 15)
    wait_until(lambda: job.get_status(refresh=True).value == "started", 30, "the job")
    # The work horse and RQ's scheduler process.
    wait_until(lambda: len(children_of(worker.process.pid)) >= 2, 10, "horse and scheduler")
    helpers = children_of(worker.process.pid)

    worker.process.kill()  # SIGKILL: no teardown runs
    worker.process.wait(10)
    wait_until(lambda: not any(_stat(pid) for pid in helpers), 10, "its children to stop")
    time.sleep(16)
    assert not marker.exists()  # the orphaned job never finished behind the next worker's back
