"""A real RQ worker process runs the sync; SIGKILL mid-sync and a rerun converge on the truth."""

from __future__ import annotations

import subprocess
import time

import pytest
from sqlalchemy import func, select

from ads import services, sync
from ads.models import SpendFact, SyncRun
from ads.sandbox import DEFAULT_TOKEN
from config import BASE_DIR
from core.extensions import db
from tests.ads.conftest import END
from tests.ads.test_sync import ACCOUNT, SINCE, db_totals, truth
from tests.ads.workers import horse_of, release_app, start_worker, stop, worker_cmd, worker_env
from tests.conftest import make_app


@pytest.fixture
def queued(database_url, redis_url, sandbox):
    application = make_app(
        database_url, REDIS_URL=redis_url, META_GRAPH_URL=sandbox.url, SYNC_STALE_SECONDS=2
    )
    with application.app_context():
        yield application
        release_app(application)


def test_real_worker_syncs_to_ground_truth(queued, database_url, redis_url, sandbox):
    account = services.connect_meta_account(ACCOUNT, DEFAULT_TOKEN, currency="EUR")
    db.session.commit()
    run = sync.start_sync(account.id, SINCE, END)
    assert run.status == "queued" and run.job_id == f"sync-account-{account.id}-run-{run.id}"
    done = subprocess.run(
        worker_cmd("--burst"),
        cwd=BASE_DIR,
        env=worker_env(database_url, redis_url, sandbox.url),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    db.session.expire_all()
    finished = db.session.get(SyncRun, run.id)
    assert finished.status == "succeeded", (finished.error, done.stderr[-3000:])
    assert finished.pages > 1  # paged through the cursor
    assert db_totals(account.id, SINCE, END) == truth(sandbox)


def test_sigkill_mid_sync_then_rerun_gives_exact_totals(queued, database_url, redis_url, sandbox):
    account = services.connect_meta_account(ACCOUNT, DEFAULT_TOKEN, currency="EUR")
    db.session.commit()
    sandbox.state.set_faults({"slow": {"count": "always", "seconds": 0.25}})
    first = sync.start_sync(account.id, SINCE, END)
    worker = start_worker(worker_env(database_url, redis_url, sandbox.url))
    horse = None
    try:
        horse = horse_of(worker.pid)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            db.session.expire_all()
            if db.session.get(SyncRun, first.id).pages >= 3:
                break
            time.sleep(0.1)
        else:
            pytest.fail("the sync never got past page 3")
    finally:
        stop(worker, horses=[horse] if horse else [])  # the worker and its work horse at once

    db.session.expire_all()
    killed = db.session.get(SyncRun, first.id)
    assert killed.status == "running"  # nothing marked it final
    partial = db.session.scalar(select(func.count(SpendFact.id)))
    assert 0 < partial < truth(sandbox)["rows"]

    time.sleep(2.5)  # longer than SYNC_STALE_SECONDS: the dead run stopped beating
    sandbox.state.reset_faults()
    rerun = sync.start_sync(account.id, SINCE, END)
    assert rerun.id != first.id and rerun.resumed_from_id == first.id
    db.session.expire_all()
    stale = db.session.get(SyncRun, first.id)
    assert stale.status == "failed" and stale.error.startswith("Interrupted: no heartbeat")

    done = subprocess.run(
        worker_cmd("--burst"),
        cwd=BASE_DIR,
        env=worker_env(database_url, redis_url, sandbox.url),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    db.session.expire_all()
    assert db.session.get(SyncRun, rerun.id).status == "succeeded", done.stderr[-3000:]
    assert db_totals(account.id, SINCE, END) == truth(sandbox)  # exact, no duplicates
