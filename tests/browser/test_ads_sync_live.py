"""The "Sync now" progress bar moves live in Chromium while a real RQ worker runs the sync.

Unlike test_ads_sync_flow.py (inline jobs: the bar is only ever seen at 100 %), the live app
here has REDIS_URL set, so "Sync now" only ENQUEUES the job and redirects to the run page; a
real `flask --app wsgi worker` process, started for the test against the same database and a
test Redis, runs it. The sandbox answers every insights request slowly and the worker reads
small pages, so the 300-day backfill (four 92-day chunks, several pages each) takes a few
seconds: the page's own polling shows the bar part-way while the run is "running", then at
100 % and "succeeded", without a reload. The facts are then the sandbox's ground truth.

The worker sees the live app's database: the suite's SQLite is a file in a temp directory
(tests/conftest.py turns `sqlite://` into one), and PostgreSQL is a server, so the worker gets
the same `database_url` as DATABASE_URL. Redis is `redis_url` (TEST_REDIS_URL), flushed
before and after.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from redis import Redis
from rq import Worker
from rq.job import Job
from sqlalchemy import func, select

import config
from ads.models import AdAccount, SpendFact, SyncRun
from ads.sandbox import DEFAULT_TOKEN, RunningSandbox, SandboxData, serve_sandbox
from ads.sync import CHUNK_DAYS
from config import BASE_DIR
from core.extensions import db
from core.money import exponent
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

ACCOUNT = "act_1001"
BACKFILL_DAYS = 300  # four 92-day chunks: 92 + 92 + 92 + 24 days
PAGE_SIZE = 100  # 4 ads x 92 days = 368 rows: four pages per full chunk
SLOW_SECONDS = 0.3  # per insights request (report creation and every page of results)
WAIT_MS = 30_000  # worker start-up plus the slowed sync, with room to spare

# Every change the page's script makes to the bar, with the status it showed at that moment:
# the script sets aria-valuenow and the status text in the same task, and the observer's
# callback runs right after it. A reload would start a new, empty record.
RECORD_PROGRESS = """
window.__progress = [];
new MutationObserver((records) => {
  for (const record of records) {
    if (record.target.id !== "run-progress") continue;
    const status = document.getElementById("run-status");
    window.__progress.push({
      value: Number(record.target.getAttribute("aria-valuenow")),
      status: status ? status.textContent.trim() : null,
    });
  }
}).observe(document, { subtree: true, attributes: true, attributeFilter: ["aria-valuenow"] });
"""


def _path_is(pattern: str) -> re.Pattern[str]:
    return re.compile(rf"^https?://[^/]+{pattern}(\?.*)?$")


@pytest.fixture(scope="module")
def sandbox_server() -> Iterator[RunningSandbox]:
    # The sandbox's "today" is the app's (UTC): the default backfill ends yesterday.
    data = SandboxData(
        seed=23,
        end_date=datetime.now(UTC).date(),
        days=BACKFILL_DAYS + 10,
        campaigns=2,
        adsets_per_campaign=1,
        ads_per_adset=2,
    )
    with serve_sandbox(data) as running:
        yield running


@pytest.fixture
def sandbox(sandbox_server: RunningSandbox) -> Iterator[RunningSandbox]:
    sandbox_server.state.reset()
    sandbox_server.state.set_faults(
        {"slow": {"seconds": SLOW_SECONDS, "count": "always", "match": "insights"}}
    )
    yield sandbox_server
    sandbox_server.state.reset()


@pytest.fixture
def queued_app(app: Flask, redis_url: str, sandbox: RunningSandbox, monkeypatch) -> Iterator[Flask]:
    """The live app enqueues jobs on the test Redis (config restored by monkeypatch)."""
    monkeypatch.setitem(app.config, "REDIS_URL", redis_url)
    monkeypatch.setitem(app.config, "META_GRAPH_URL", sandbox.url)
    # core.jobs caches one Redis client per URL here: a fresh cache, closed and put back after.
    monkeypatch.setitem(app.extensions, "flightdeck_redis", {})
    yield app
    for conn in app.extensions["flightdeck_redis"].values():
        conn.close()


@pytest.fixture
def worker(
    queued_app: Flask, database_url: str, redis_url: str, sandbox: RunningSandbox, tmp_path: Path
) -> Iterator[str]:
    """A real `flask --app wsgi worker` on the default queue; yields its name.

    Stopped (warm shutdown, then SIGKILL) before the suite truncates the tables and the
    `redis_url` fixture flushes the Redis database.
    """
    name = f"live-sync-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "FLIGHTDECK_ENV": "development",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "META_GRAPH_URL": sandbox.url,
        "META_POLL_INTERVAL": "0.02",
        "META_PAGE_SIZE": str(PAGE_SIZE),
        # The worker must hold the key the live app encrypted the token with.
        "SECRET_KEY": config.TestConfig.SECRET_KEY,
        "FLIGHTDECK_ENCRYPTION_KEY": config.TestConfig.FLIGHTDECK_ENCRYPTION_KEY,
    }
    log_path = tmp_path / "worker.log"
    conn = Redis.from_url(redis_url)
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "-q", "default"]
            + ["--name", name],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the worker and its work horse
        )
    try:
        # Wait until it has registered, so "Sync now" is pressed with a worker listening.
        key = Worker.redis_worker_namespace_prefix + name
        deadline = time.monotonic() + 20
        while Worker.find_by_key(key, connection=conn) is None:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the RQ worker did not start:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.1)
        yield name
    finally:
        conn.close()
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def _db_totals(account_id: int, since: date, until: date) -> dict:
    row = db.session.execute(
        select(
            func.count(SpendFact.id),
            func.sum(SpendFact.spend_minor),
            func.sum(SpendFact.impressions),
            func.sum(SpendFact.clicks),
            func.sum(SpendFact.purchases),
            func.sum(SpendFact.conversion_value_minor),
            func.sum(SpendFact.leads),
        ).where(SpendFact.account_id == account_id, SpendFact.day.between(since, until))
    ).one()
    rows, spend, impressions, clicks, purchases, value, leads = (int(v or 0) for v in row)
    return {
        "rows": rows,
        "spend": spend,
        "impressions": impressions,
        "clicks": clicks,
        "purchases": purchases,
        "purchase_value": value,
        "leads": leads,
    }


def _truth(sandbox: RunningSandbox, since: date, until: date, decimals: int) -> dict:
    t = sandbox.data.totals(ACCOUNT, since, until)
    return {
        "rows": t["rows"],
        "spend": int(t["spend"].scaleb(decimals)),
        "impressions": t["impressions"],
        "clicks": t["clicks"],
        "purchases": t["purchases"],
        "purchase_value": int(t["purchase_value"].scaleb(decimals)),
        "leads": t["leads"],
    }


def test_sync_progress_moves_live_with_a_real_worker(
    page: Page, sign_in, users, sandbox, queued_app, worker, redis_url
) -> None:
    marketer = users["marketer"]
    sign_in(marketer.email, PASSWORD)
    expect(page).to_have_url(_path_is("/"))

    # Connect the sandbox account with a long backfill.
    page.goto("/ads/connect")
    page.get_by_label("Ad account id").fill(ACCOUNT)
    page.get_by_label("Account currency").select_option("EUR")
    page.get_by_label("Access token").fill(DEFAULT_TOKEN)
    page.get_by_label("Backfill on first sync (days)").fill(str(BACKFILL_DAYS))
    page.get_by_role("button", name="Connect").click()
    expect(page).to_have_url(_path_is(r"/ads/accounts/\d+"))
    expect(page.get_by_role("status")).to_contain_text(f"Connected {ACCOUNT}")

    # "Sync now" enqueues and redirects at once; the run page then follows the worker.
    page.add_init_script(RECORD_PROGRESS)
    started = time.monotonic()
    page.get_by_role("button", name="Sync now").click()
    expect(page).to_have_url(_path_is(r"/ads/runs/\d+"))
    page.evaluate("window.__samePage = true")
    progress = page.get_by_role("progressbar", name="Sync progress")
    expect(progress).to_be_visible()

    # Part-way: 1-99 %, read from the page while the sync is running.
    expect(progress).to_have_attribute("aria-valuenow", re.compile(r"^[1-9]\d?$"), timeout=WAIT_MS)
    midway = time.monotonic() - started

    # Then, by itself, 100 % and succeeded.
    expect(page.locator("#run-status")).to_have_text("succeeded", timeout=WAIT_MS)
    finished = time.monotonic() - started
    expect(progress).to_have_attribute("aria-valuenow", "100")
    expect(page.locator("#run-progress .progress-bar")).to_have_attribute(
        "style", re.compile(r"width:\s*100%")
    )
    expect(page.locator("#run-percent")).to_have_text("100")
    expect(page.locator("#run-error")).to_have_text("")
    assert page.evaluate("window.__samePage") is True, "the run page was reloaded"

    seen = page.evaluate("window.__progress")
    values = [s["value"] for s in seen]
    midway_running = [s["value"] for s in seen if 0 < s["value"] < 100 and s["status"] == "running"]
    assert values == sorted(values), f"the bar went backwards: {seen}"
    assert seen[-1] == {"value": 100, "status": "succeeded"}, seen
    assert len(set(midway_running)) >= 2, f"the bar did not move while running: {seen}"
    print(  # shown with -s: how the bar moved, and when
        f"\nprogress seen {[(s['value'], s['status']) for s in seen]}; "
        f"midway after {midway:.1f}s, succeeded after {finished:.1f}s"
    )

    # The worker ran the job from the queue (not inline), and the facts are the ground truth.
    db.session.expire_all()
    run = db.session.scalars(select(SyncRun).order_by(SyncRun.id.desc())).one()
    assert page.url.endswith(f"/ads/runs/{run.id}")
    assert (run.status, run.progress, run.error, run.attempts) == ("succeeded", 100, "", 1)
    chunks = -(-((run.until - run.since).days + 1) // CHUNK_DAYS)
    assert (run.until - run.since).days + 1 == BACKFILL_DAYS and chunks == 4
    assert run.pages > chunks  # several pages per chunk
    conn = Redis.from_url(redis_url)
    try:
        job = Job.fetch(run.job_id, connection=conn)
        assert job.get_status().value == "finished"
        assert job.worker_name == worker
    finally:
        conn.close()
    account = db.session.get(AdAccount, run.account_id)
    decimals = exponent(account.currency)
    truth = _truth(sandbox, run.since, run.until, decimals)
    assert truth["rows"] == run.rows_inserted > 0
    assert _db_totals(account.id, run.since, run.until) == truth
    assert account.synced_through == run.until
