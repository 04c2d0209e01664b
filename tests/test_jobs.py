"""Job plumbing: inline without Redis, through a real RQ worker process with Redis."""

from __future__ import annotations

import os
import subprocess
import sys

from redis import Redis
from rq.job import Job

from config import BASE_DIR
from core.jobs import echo, enqueue
from tests.conftest import make_app


def test_inline_when_redis_url_is_unset(app):
    assert app.config["REDIS_URL"] is None
    handle = enqueue(echo, "hello", job_id="echo-inline")
    assert handle.inline
    assert handle.status == "finished"
    assert handle.result == {"echo": "hello", "app": "flightdeck", "db": "1"}


def test_inline_failure_is_reported_not_raised(app):
    def boom() -> None:
        raise ValueError("bad input")

    handle = enqueue(boom)
    assert handle.status == "failed"
    assert handle.error == "bad input"


def test_real_worker_runs_a_job_in_an_app_context(database_url, redis_url):
    queued_app = make_app(database_url, REDIS_URL=redis_url)
    with queued_app.app_context():
        handle = enqueue(echo, "through redis", job_id="echo-real-worker")
        assert not handle.inline
        assert handle.status == "queued"
        # The same deterministic id is not queued twice while the first is pending.
        again = enqueue(echo, "through redis", job_id="echo-real-worker")
        assert again.id == handle.id
        assert Redis.from_url(redis_url).llen("rq:queue:default") == 1

    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "FLIGHTDECK_ENV": "development",
    }
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--burst", "-q", "default"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    conn = Redis.from_url(redis_url)
    job = Job.fetch("echo-real-worker", connection=conn)
    assert job.get_status().value == "finished", result.stderr[-2000:]
    assert job.return_value() == {"echo": "through redis", "app": "flightdeck", "db": "1"}
    conn.close()
