"""A real RQ worker (and Redis) killed in every way: the run says so at once, a new run of the
same window carries on where the killed one stopped, and an orphaned work horse neither runs
beside a second sync nor writes a contradictory outcome."""

from __future__ import annotations

import os
import random
import signal
import time
from datetime import timedelta

import pytest
from redis import Redis
from rq.registry import StartedJobRegistry
from sqlalchemy import func, select, text

from ads import services, sync
from ads.models import SyncRun
from ads.sandbox import DEFAULT_TOKEN
from core.extensions import db
from tests.ads.conftest import END
from tests.ads.test_sync import ACCOUNT, db_totals, truth
from tests.ads.workers import (
    horse_of,
    kill,
    release_app,
    start_worker,
    stop,
    wait_gone,
    worker_env,
)
from tests.conftest import make_app

SINCE = END - timedelta(days=74)  # the sandbox's whole history: one async report run
STALE = 3  # SYNC_STALE_SECONDS, here and in the worker


@pytest.fixture
def queued(database_url, redis_url, sandbox):
    application = make_app(
        database_url,
        REDIS_URL=redis_url,
        META_GRAPH_URL=sandbox.url,
        META_POLL_INTERVAL=0.01,
        SYNC_STALE_SECONDS=STALE,
    )
    with application.app_context():
        yield application
        release_app(application)


@pytest.fixture
def account(queued):
    made = services.connect_meta_account(ACCOUNT, DEFAULT_TOKEN, currency="EUR")
    db.session.commit()
    return made


@pytest.fixture
def env(database_url, redis_url, sandbox):
    return worker_env(
        database_url,
        redis_url,
        sandbox.url,
        META_PAGE_SIZE="10",
        SYNC_STALE_SECONDS=str(STALE),
    )


def fresh(run_id: int) -> SyncRun:
    db.session.expire_all()
    return db.session.get(SyncRun, run_id)


def wait_for(predicate, what: str, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


def pages_served(sandbox) -> int:
    by = sandbox.state.stats()["by_endpoint"]
    return by.get("report_results", 0) + by.get("insights", 0)


def test_killing_the_work_horse_five_times_resumes_each_time(account, env, sandbox, tmp_path):
    # One clean run first: the pages a sync of this window takes.
    clean = sync.start_sync(account.id, SINCE, END)
    worker = start_worker(env, tmp_path / "worker.log")
    try:
        wait_for(lambda: fresh(clean.id).is_final, "the clean run")
        assert fresh(clean.id).status == "succeeded"
        one_run_pages = pages_served(sandbox)
        assert one_run_pages >= 80  # ten rows a page: enough pages to kill in between
        db.session.execute(text("DELETE FROM spend_facts"))
        db.session.commit()
        sandbox.state.reset_stats()
        slow = {"count": "always", "seconds": 0.08, "match": "insights"}
        sandbox.state.set_faults({"slow": slow})

        rng = random.Random(20261206)
        run = sync.start_sync(account.id, SINCE, END)
        chain = [run.id]
        for kill_number in range(5):
            before = fresh(run.id).pages
            wait_for(lambda r=run.id, b=before: fresh(r).pages > b, "a page stored")
            # Only now: the worker runs one job at a time, and this run is storing pages, so
            # its horse is the sync's (not the reconcile job's the worker queues on start).
            horse = horse_of(worker.pid)
            time.sleep(rng.uniform(0.0, 0.6))  # somewhere in the middle of a page, or not
            kill(horse)
            # The worker saw its horse die: the run is closed at once, with the reason.
            closed = wait_for(lambda r=run.id: fresh(r).is_final and fresh(r), "the run closed", 10)
            assert closed.status == "failed", (kill_number, closed.error)
            assert closed.error.startswith("Interrupted: the process running it was killed by")
            run = sync.start_sync(account.id, SINCE, END)
            assert run.resumed_from_id == chain[-1] and run.id not in chain
            chain.append(run.id)
        done = wait_for(lambda: fresh(run.id).is_final and fresh(run.id), "the last run", 120)
        assert (done.status, done.error) == ("succeeded", "")
    finally:
        stop(worker)
    assert db_totals(account.id, SINCE, END) == truth(sandbox, SINCE, END)
    assert pages_served(sandbox) <= 1.2 * one_run_pages, (pages_served(sandbox), one_run_pages)
    stored = db.session.scalar(select(func.sum(SyncRun.rows_inserted)).where(SyncRun.id.in_(chain)))
    assert stored == truth(sandbox, SINCE, END)["rows"]  # each row stored once, chain-wide
    assert sandbox.state.stats()["report_runs"] == 1  # every run read the same report run


def test_killing_the_main_process_takes_its_horse_along_and_the_next_run_resumes(
    account, env, sandbox, tmp_path
):
    sandbox.state.set_faults({"slow": {"count": "always", "seconds": 0.05, "match": "insights"}})
    run = sync.start_sync(account.id, SINCE, END)
    worker = start_worker(env, tmp_path / "worker.log")
    try:
        wait_for(lambda: fresh(run.id).pages >= 3, "three pages")
        horse = horse_of(worker.pid)
        os.killpg(worker.pid, signal.SIGKILL)  # the worker's main process (and its scheduler)
        worker.wait(timeout=30)
        # No orphan goes on writing beside the run that replaces it (core/worker.py).
        wait_gone(horse, 10)
        pages = fresh(run.id).pages
        time.sleep(STALE + 1)  # its heartbeat goes stale: nobody works on it any more
        assert fresh(run.id).pages == pages and fresh(run.id).status != "succeeded"
        again, joined = sync.begin_sync(account.id, SINCE, END)
        assert not joined and again.resumed_from_id == run.id
        assert fresh(run.id).status == "failed" and fresh(run.id).error.startswith("Interrupted")
    finally:
        stop(worker)
    worker = start_worker(env, tmp_path / "worker2.log")
    try:
        done = wait_for(lambda: fresh(again.id).is_final and fresh(again.id), "the rerun", 120)
    finally:
        stop(worker)
    assert (done.status, done.error, done.progress) == ("succeeded", "", 100)
    assert db_totals(account.id, SINCE, END) == truth(sandbox, SINCE, END)


def test_a_closed_run_stops_its_orphan_without_a_word_written(account, env, sandbox, tmp_path):
    sandbox.state.set_faults({"slow": {"count": "always", "seconds": 0.1, "match": "insights"}})
    run = sync.start_sync(account.id, SINCE, END)
    worker = start_worker(env, tmp_path / "worker.log")
    wait_for(lambda: fresh(run.id).pages >= 2, "two pages")
    horse = horse_of(worker.pid)  # the sync's: its run is storing pages
    try:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
        # Someone closes the run meanwhile (an admin, a reconciler that judged it dead).
        assert sync.close_run(run.id, "Closed by hand for the test.")
        wait_gone(horse, timeout=STALE * 4)  # its next beat or page finds the run closed
    finally:
        kill(horse)
        stop(worker)
    closed = fresh(run.id)
    assert (closed.status, closed.error) == ("failed", "Closed by hand for the test.")
    pages = closed.pages
    time.sleep(0.5)
    assert fresh(run.id).pages == pages


def test_rq_calls_back_for_a_job_its_dead_worker_abandoned_and_the_run_closes(
    account, env, redis_url, sandbox, tmp_path
):
    sandbox.state.set_faults({"slow": {"count": "always", "seconds": 0.1, "match": "insights"}})
    run = sync.start_sync(account.id, SINCE, END)
    worker = start_worker(env, tmp_path / "worker.log")
    wait_for(lambda: fresh(run.id).pages >= 2, "two pages")
    horse = horse_of(worker.pid)  # the sync's: its run is storing pages
    stop(worker, horses=[horse])  # the whole tree: nobody is left to report anything
    assert fresh(run.id).status == "running"
    time.sleep(STALE + 0.5)
    # RQ's maintenance (any worker's, later) finds the job abandoned once its execution
    # expires, and calls the job's failure callback: the run is closed with the reason.
    conn = Redis.from_url(redis_url)
    StartedJobRegistry("default", connection=conn).cleanup(timestamp=time.time() + 3600)
    conn.close()
    closed = fresh(run.id)
    assert closed.status == "failed"
    assert closed.error == (
        "Interrupted: its worker stopped. The next sync resumes where it stopped."
    )
    rerun = sync.start_sync(account.id, SINCE, END)
    assert rerun.resumed_from_id == run.id
