"""Embedded mode (no Redis): "Sync now" hands the sync to a background thread and returns at
once; the same ledger, one live run per account, and the run page follows its progress."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from ads import services
from ads.models import SyncRun
from ads.sandbox import DEFAULT_TOKEN
from core.extensions import db
from core.jobs import wait_for_jobs
from tests.ads.conftest import END
from tests.ads.test_sync import ACCOUNT, db_totals, truth
from tests.ads.workers import release_app
from tests.conftest import login, make_app

SINCE = END - timedelta(days=59)


@pytest.fixture
def embedded(database_url, sandbox, users):
    """The app as `make run` serves it: no REDIS_URL, jobs on the thread pool. (Users sign in
    by email: the `users` objects belong to the suite app's session.)"""
    application = make_app(
        database_url,
        JOBS_EMBEDDED="thread",
        REDIS_URL=None,
        META_GRAPH_URL=sandbox.url,
        META_POLL_INTERVAL=0.01,
        META_PAGE_SIZE=20,
        SYNC_STALE_SECONDS=4,
    )
    with application.app_context():
        yield application
        release_app(application)


def press(client, account_id: int):
    started = time.monotonic()
    response = client.post(
        f"/ads/accounts/{account_id}/sync",
        data={"since": SINCE.isoformat(), "until": END.isoformat()},
    )
    return response, time.monotonic() - started


def test_sync_now_returns_at_once_and_a_second_press_joins_the_run(embedded, sandbox, users):
    account = services.connect_meta_account(ACCOUNT, DEFAULT_TOKEN, currency="EUR")
    db.session.commit()
    sandbox.state.set_faults({"slow": {"count": "always", "seconds": 0.3, "match": "insights"}})
    client = embedded.test_client()
    assert login(client, "marketer@example.test").status_code == 302

    first, seconds = press(client, account.id)
    assert first.status_code == 302 and seconds < 1.0, seconds
    run_id = int(first.headers["Location"].rsplit("/", 1)[1])
    page = client.get(f"/ads/runs/{run_id}").get_data(as_text=True)
    assert "Sync started for" in page and "this page follows its progress" in page

    # While it runs (a page at a time, each answer 0.3 s late), the account page renders and
    # a second press, by anyone, joins the live run instead of starting or breaking one.
    deadline = time.monotonic() + 30
    while db.session.scalar(select(SyncRun.pages).where(SyncRun.id == run_id)) < 2:
        assert time.monotonic() < deadline, "the sync never got going"
        time.sleep(0.1)
    other = embedded.test_client()
    assert login(other, "admin@example.test").status_code == 302
    account_page = other.get(f"/ads/accounts/{account.id}").get_data(as_text=True)
    assert f"run #{run_id}</a>" in account_page
    second, seconds = press(other, account.id)
    assert seconds < 1.0 and second.headers["Location"].endswith(f"/ads/runs/{run_id}")
    html = other.get(second.headers["Location"]).get_data(as_text=True)
    assert f"joined run {run_id} (started " in html and "by Marketer Tester" in html
    assert db.session.scalar(select(func.count(SyncRun.id))) == 1

    status = other.get(f"/ads/runs/{run_id}/status").get_json()
    assert status["status"] == "running" and 0 < status["progress"] < 100

    assert wait_for_jobs(embedded, timeout=120)
    db.session.expire_all()
    run = db.session.get(SyncRun, run_id)
    assert (run.status, run.error, run.progress) == ("succeeded", "", 100)
    assert db_totals(account.id, SINCE, END) == truth(sandbox, SINCE, END)
    assert run.rows_inserted == truth(sandbox, SINCE, END)["rows"]


def test_a_failed_background_sync_says_why_on_its_run(embedded, sandbox, users):
    account = services.connect_meta_account(ACCOUNT, DEFAULT_TOKEN, currency="EUR")
    db.session.commit()
    sandbox.state.set_faults({"token_expired": "always"})
    client = embedded.test_client()
    login(client, "marketer@example.test")
    response, _ = press(client, account.id)
    assert wait_for_jobs(embedded, timeout=60)
    status = client.get(response.headers["Location"] + "/status").get_json()
    assert status["status"] == "failed" and "Reconnect" in status["error"]


def test_a_rate_limit_is_waited_out_in_the_background(embedded, sandbox):
    account = services.connect_meta_account(ACCOUNT, DEFAULT_TOKEN, currency="EUR")
    db.session.commit()
    limit = {"count": 1, "skip": 2, "code": 17, "reset_seconds": 1, "match": "insights"}
    sandbox.state.set_faults({"rate_limit": limit})
    client = embedded.test_client()
    login(client, "marketer@example.test")
    response, seconds = press(client, account.id)
    assert seconds < 1.0
    status_url = response.headers["Location"] + "/status"
    retrying = wait_until(lambda: client.get(status_url).get_json(), "retrying")
    assert retrying["error"].startswith("Rate limited by Meta (17")
    assert "Retrying in 1 s (attempt 2)" in retrying["error"]
    assert wait_for_jobs(embedded, timeout=60)  # the retry waited on a timer, then ran
    run = db.session.get(SyncRun, int(response.headers["Location"].rsplit("/", 1)[1]))
    assert (run.status, run.attempts, run.error) == ("succeeded", 2, "")
    assert db_totals(account.id, SINCE, END) == truth(sandbox, SINCE, END)


def wait_until(poll, status: str, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = poll()
        if got["status"] == status:
            return got
        time.sleep(0.05)
    raise AssertionError(f"never {status}")
