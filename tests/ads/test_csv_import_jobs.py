"""Ad CSV uploads are stored and imported by a job: the request returns at once with a queued
run, a real RQ worker imports it, the page shows progress then the same row report; a killed
or failed import leaves nothing that looks final, and a second run of the job imports once."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import OperationalError

import config
from ads import csv_jobs, csv_store
from ads.models import SpendFact, SyncRun
from config import BASE_DIR
from core.extensions import db
from core.progress import RowProgress
from tests.conftest import login, make_app

DATA = Path(__file__).parent / "data"


def _export(campaigns: int, days: int) -> tuple[bytes, int]:
    lines = ["Date,Campaign name,Campaign ID,Currency,Cost"]
    total = 0
    for c in range(campaigns):
        for d in range(days):
            cents = 100 + c + d
            total += cents
            lines.append(f"{date(2025, 1, 1) + timedelta(days=d)},C{c},{c},USD,{cents / 100:.2f}")
    return ("\n".join(lines) + "\n").encode(), total


def _spend() -> tuple[int, int]:
    row = db.session.execute(
        select(func.count(SpendFact.id), func.coalesce(func.sum(SpendFact.spend_minor), 0))
    ).one()
    return int(row[0]), int(row[1])


def _post(client, data: bytes, platform: str = "tiktok_ads", name: str = "export.csv"):
    return client.post(
        "/ads/import",
        data={"platform": platform, "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


@pytest.fixture
def marketer(users) -> tuple[int, str]:
    """Read in the suite's app: inside another app a lazy load would hold its connection."""
    return users["marketer"].id, users["marketer"].email


@pytest.fixture
def queued(marketer, database_url, redis_url, tmp_path):
    """The app with Redis: jobs are queued for a worker, uploads kept under tmp_path."""
    application = make_app(database_url, REDIS_URL=redis_url, UPLOAD_DIR=str(tmp_path))
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()


def _worker_env(database_url: str, redis_url: str, upload_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "FLIGHTDECK_ENV": "development",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "UPLOAD_DIR": str(upload_dir),
        "SECRET_KEY": config.TestConfig.SECRET_KEY,
        "FLIGHTDECK_ENCRYPTION_KEY": config.TestConfig.FLIGHTDECK_ENCRYPTION_KEY,
    }


WORKER = [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "-q", "default"]


def test_upload_returns_a_queued_run_and_a_real_worker_imports_it(
    queued, marketer, database_url, redis_url, tmp_path
):
    client = queued.test_client()
    assert login(client, marketer[1]).status_code == 302
    data, total = _export(3, 40)

    page = _post(client, data)

    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Importing" in html and 'role="progressbar"' in html
    run = db.session.scalar(select(SyncRun))
    assert (run.status, run.job_id) == ("queued", f"csv-import-run-{run.id}")
    assert _spend() == (0, 0)
    assert len(list(tmp_path.glob("*.upload"))) == 1  # the file waits on disk, not in memory

    done = subprocess.run(
        [*WORKER, "--burst"],
        cwd=BASE_DIR,
        env=_worker_env(database_url, redis_url, tmp_path),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-3000:]

    db.session.expire_all()
    run = db.session.get(SyncRun, run.id)
    assert (run.status, run.progress, run.rows_inserted) == ("succeeded", 100, 120)
    assert _spend() == (120, total)
    assert list(tmp_path.glob("*.upload")) == []  # the stored upload is gone once imported
    status = client.get(f"/ads/runs/{run.id}/status").get_json()
    assert status["final"] and status["progress"] == 100
    result = client.get(f"/ads/import?run={run.id}").get_data(as_text=True)
    assert "Imported 120 daily campaign rows" in result and 'id="import-result"' in result


def test_a_worker_killed_mid_import_leaves_no_facts_and_a_rerun_is_exact(
    queued, marketer, database_url, redis_url, tmp_path
):
    data, total = _export(40, 1000)  # 40,000 rows: two buckets, a few seconds of work
    first = _queue(data, marketer[0])
    worker = subprocess.Popen(
        WORKER,
        cwd=BASE_DIR,
        env=_worker_env(database_url, redis_url, tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            db.session.expire_all()
            if db.session.get(SyncRun, first.id).status == "running":
                break
            time.sleep(0.05)
        else:
            pytest.fail("the import never started")
        time.sleep(1.0)
    finally:
        _kill_tree(worker.pid)
        worker.wait(timeout=30)

    db.session.expire_all()
    killed = db.session.get(SyncRun, first.id)
    assert killed.status in ("running", "succeeded")
    if killed.status == "running":
        # One transaction: not a single fact of the half-done import is visible.
        assert _spend() == (0, 0)
        assert not killed.is_final
        # Once silent long enough, the ledger says what happened.
        queued.config["IMPORT_STALE_SECONDS"] = 0
        assert csv_jobs.close_stale_imports() == 1
        db.session.commit()
        closed = db.session.get(SyncRun, first.id)
        assert closed.status == "failed" and "Interrupted" in closed.error

    second = _queue(data, marketer[0]).id
    done = subprocess.run(
        [*WORKER, "--burst"],
        cwd=BASE_DIR,
        env=_worker_env(database_url, redis_url, tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    db.session.expire_all()
    rerun = db.session.get(SyncRun, second)
    assert rerun.status == "succeeded", (rerun.error, done.stderr[-8000:])
    assert _spend() == (40_000, total)  # exact: nothing twice, nothing lost


def _kill_tree(pid: int) -> None:
    """SIGKILL a worker and its work horse (RQ forks the horse into a group of its own)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    doomed, todo = [], [pid]
    while todo:
        current = todo.pop()
        doomed.append(current)
        todo.extend(children.get(current, []))
    for victim in doomed:
        with contextlib.suppress(ProcessLookupError):
            os.kill(victim, signal.SIGKILL)


def _queue(data: bytes, user_id: int) -> SyncRun:
    return csv_jobs.queue_import(
        io.BytesIO(data),
        "export.csv",
        platform="tiktok_ads",
        account_id=None,
        currency=None,
        date_order=None,
        user_id=user_id,
    )


def test_running_the_job_twice_imports_once(users, tmp_path, app):
    before = app.config["UPLOAD_DIR"]
    app.config["UPLOAD_DIR"] = str(tmp_path)
    try:
        data, total = _export(2, 5)
        run = _queue(data, users["marketer"].id)
        assert run.status == "succeeded" and _spend() == (10, total)

        again = csv_jobs.run_csv_import(run.id)

        assert again == {"run_id": run.id, "status": "succeeded"}
        assert _spend() == (10, total)
        assert db.session.scalar(select(func.count(SyncRun.id))) == 1
    finally:
        app.config["UPLOAD_DIR"] = before


def test_progress_is_visible_while_the_facts_are_not(users, tmp_path, app, monkeypatch):
    """During the import another connection sees the run's progress move but none of its
    facts: they commit with the final state, together."""
    before = app.config["UPLOAD_DIR"]
    app.config["UPLOAD_DIR"] = str(tmp_path)
    monkeypatch.setattr(RowProgress, "INTERVAL", 0.0)
    outside = create_engine(db.engine.url)
    seen: list[tuple[str, int, int]] = []
    real = csv_store.upsert_facts

    def watching(account, rows, run_id):
        try:
            with outside.connect() as conn:
                if conn.dialect.name == "sqlite":
                    conn.exec_driver_sql("PRAGMA busy_timeout = 0")
                status, progress = conn.execute(
                    text("SELECT status, progress FROM sync_runs WHERE id = :id"), {"id": run_id}
                ).one()
                facts = conn.execute(text("SELECT count(*) FROM spend_facts")).scalar_one()
            seen.append((status, progress, facts))
        except OperationalError:  # SQLite: the import's write lock keeps readers out
            assert outside.dialect.name == "sqlite"
        return real(account, rows, run_id)

    monkeypatch.setattr(csv_store, "upsert_facts", watching)
    try:
        data, total = _export(30, 1000)
        run = _queue(data, users["marketer"].id)
    finally:
        outside.dispose()
        app.config["UPLOAD_DIR"] = before

    assert run.status == "succeeded", run.error
    assert _spend() == (30_000, total)
    assert all(status == "running" and facts == 0 for status, _p, facts in seen)
    if db.engine.dialect.name == "postgresql":
        progress = [p for _s, p, _f in seen]
        assert progress == sorted(progress) and progress[0] >= 40  # read and grouped
        assert progress[-1] > progress[0]  # it moves while storing, too


def test_a_missing_upload_fails_the_run_with_a_message(users, tmp_path, app):
    run = SyncRun(
        kind="csv_import",
        status="queued",
        source_name="gone.csv",
        started_by_id=users["marketer"].id,
        details={"platform": "tiktok_ads", "upload": "../../etc/passwd"},
    )
    db.session.add(run)
    db.session.commit()

    csv_jobs.run_csv_import(run.id)

    db.session.expire_all()
    failed = db.session.get(SyncRun, run.id)
    assert failed.status == "failed" and "could not be read back" in failed.error


def test_with_the_queue_down_the_upload_is_refused_politely(database_url, marketer, tmp_path):
    email = marketer[1]
    down = make_app(database_url, REDIS_URL="redis://127.0.0.1:1/0", UPLOAD_DIR=str(tmp_path))
    with down.app_context():
        client = down.test_client()
        assert login(client, email).status_code == 302

        page = _post(client, (DATA / "tiktok_campaign_daily.csv").read_bytes())

        assert page.status_code == 200
        assert "job queue is unavailable" in page.get_data(as_text=True)
        db.session.expire_all()
        assert db.session.scalar(select(SyncRun.status)) == "failed"
        assert list(tmp_path.glob("*")) == []
        db.session.remove()
        db.engine.dispose()
