"""The sync against a Graph API that is busy, partial or strict: it pauses, resumes, shrinks
its requests and still ends on the sandbox's ground truth."""

from __future__ import annotations

from datetime import timedelta

import pytest
from redis import Redis
from rq.registry import ScheduledJobRegistry
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ads import services, sync, sync_pull, sync_runs
from ads.models import AdAccount, PlatformCampaign, SpendFact, SyncRun
from ads.sandbox import DEFAULT_TOKEN
from core.extensions import db
from tests.ads.conftest import END
from tests.ads.test_sync import ACCOUNT, SINCE, connect, db_totals, truth
from tests.ads.workers import release_app
from tests.conftest import make_app


@pytest.fixture
def point_at_sandbox(app, sandbox, monkeypatch):
    monkeypatch.setitem(app.config, "META_GRAPH_URL", sandbox.url)
    monkeypatch.setitem(app.config, "META_POLL_INTERVAL", 0.01)
    return sandbox


@pytest.fixture
def queued(database_url, redis_url, sandbox):
    """An app whose jobs go to the test Redis (no worker: the test runs the job itself)."""
    application = make_app(
        database_url, REDIS_URL=redis_url, META_GRAPH_URL=sandbox.url, META_POLL_INTERVAL=0.01
    )
    with application.app_context():
        yield application
        release_app(application)


def scheduled_ids(redis_url: str) -> list[str]:
    conn = Redis.from_url(redis_url)
    try:
        return ScheduledJobRegistry("default", connection=conn).get_job_ids()
    finally:
        conn.close()


def test_the_job_takes_an_account_and_a_window(point_at_sandbox):
    account = connect()
    result = sync.sync_account(account.id, SINCE.isoformat(), END.isoformat())
    assert result["status"] == "succeeded", result
    run = db.session.get(SyncRun, result["run_id"])
    assert (run.account_id, run.since, run.until) == (account.id, SINCE, END)
    assert db_totals(account.id, SINCE, END) == truth(point_at_sandbox)


def test_currency_comes_from_insights_when_the_account_node_is_not_served(point_at_sandbox):
    sandbox = point_at_sandbox
    sandbox.state.set_faults({"unsupported": {"endpoint": "account", "count": "always"}})
    account = connect(currency="USD")  # the connect form's guess; act_1001 spends in EUR
    run = sync.start_sync(account.id, SINCE, END)
    assert run.status == "succeeded", run.error
    assert db.session.get(AdAccount, account.id).currency == "EUR"
    currencies = db.session.scalars(select(SpendFact.currency).distinct()).all()
    assert currencies == ["EUR"]
    assert db_totals(account.id, SINCE, END) == truth(sandbox)


def test_a_refused_campaign_list_still_stores_every_campaign_from_the_rows(point_at_sandbox):
    sandbox = point_at_sandbox
    sandbox.state.set_faults({"unsupported": {"endpoint": "campaigns", "count": "always"}})
    account = connect()
    run = sync.start_sync(account.id, SINCE, END)
    assert run.status == "succeeded", run.error
    names = set(
        db.session.scalars(
            select(PlatformCampaign.name).where(PlatformCampaign.account_id == account.id)
        )
    )
    expected = {c.name for c in sandbox.data.campaigns_of(ACCOUNT)}
    assert names == expected
    assert db_totals(account.id, SINCE, END) == truth(sandbox)


@pytest.mark.parametrize("times", [1, 3])
def test_too_much_data_shrinks_the_request_and_loses_nothing(point_at_sandbox, times):
    sandbox = point_at_sandbox
    sandbox.state.set_faults({"too_much_data": {"count": times, "match": "insights"}})
    account = connect()
    run = sync.start_sync(account.id, SINCE, END)
    assert run.status == "succeeded", run.error
    assert db_totals(account.id, SINCE, END) == truth(sandbox)
    assert run.rows_inserted + run.rows_unchanged >= truth(sandbox)["rows"]
    assert db.session.scalar(select(func.count(SpendFact.id))) == truth(sandbox)["rows"]


def test_high_usage_pauses_between_chunks_and_the_retry_resumes_after_them(
    queued, sandbox, redis_url, monkeypatch
):
    monkeypatch.setattr(sync_pull, "CHUNK_DAYS", 20)  # 60 days: three chunks
    account = connect()
    run, created = sync_runs.open_run(account, SINCE, END, None)
    assert created
    sandbox.state.set_faults({"usage": {"pct": 85, "count": "always", "match": "insights"}})

    first = sync.sync_account(account.id, SINCE, END, run_id=run.id)
    assert first["status"] == "retrying" and first["retry_in"] >= 1
    paused = db.session.get(SyncRun, run.id)
    chunk_end = SINCE + timedelta(days=19)
    assert paused.details["done_through"] == chunk_end.isoformat()
    assert paused.error.startswith("Slowing down: usage at 85%")
    assert f"Resuming from {chunk_end + timedelta(days=1):%-d %b %Y}" in paused.error
    assert scheduled_ids(redis_url) == [sync.job_id_for(paused, 1)]
    # The finished chunk is stored, exactly; nothing after it yet.
    assert db_totals(account.id, SINCE, chunk_end) == truth(sandbox, SINCE, chunk_end)
    assert db_totals(account.id, chunk_end + timedelta(days=1), END)["rows"] == 0

    sandbox.state.reset()  # usage back to calm; the scheduled job runs
    second = sync.sync_account(account.id, SINCE, END, run_id=run.id)
    assert second["status"] == "succeeded", second
    done = db.session.get(SyncRun, run.id)
    assert done.attempts == 2 and done.error == "" and done.progress == 100
    assert done.rows_unchanged == 0  # the first chunk was not pulled again
    assert done.rows_inserted == truth(sandbox)["rows"]
    assert db_totals(account.id, SINCE, END) == truth(sandbox)


def test_pauses_do_not_count_as_failures(queued, sandbox, monkeypatch):
    monkeypatch.setattr(sync_pull, "CHUNK_DAYS", 10)  # six chunks, more pauses than MAX_ATTEMPTS
    account = connect()
    run, _ = sync_runs.open_run(account, SINCE, END, None)
    sandbox.state.set_faults({"usage": {"pct": 90, "count": "always", "match": "insights"}})
    for _ in range(5):
        assert sync.sync_account(account.id, SINCE, END, run_id=run.id)["status"] == "retrying"
    assert sync.sync_account(account.id, SINCE, END, run_id=run.id)["status"] == "succeeded"
    assert db.session.get(SyncRun, run.id).attempts == 6
    assert db_totals(account.id, SINCE, END) == truth(sandbox)


def test_a_hard_limit_resumes_after_the_last_finished_chunk(queued, sandbox, monkeypatch):
    monkeypatch.setattr(sync_pull, "CHUNK_DAYS", 30)  # two chunks
    account = connect()
    run, _ = sync_runs.open_run(account, SINCE, END, None)
    # The first chunk is one page; the rate limit hits the second chunk's request.
    sandbox.state.set_faults(
        {
            "rate_limit": {
                "count": 1,
                "skip": 1,
                "code": 80000,
                "regain_minutes": 1,
                "match": "insights",
            }
        }
    )
    result = sync.sync_account(account.id, SINCE, END, run_id=run.id)
    assert result["status"] == "retrying" and result["retry_in"] == 60
    limited = db.session.get(SyncRun, run.id)
    assert limited.error.startswith("Rate limited by Meta (80000/2446079)")
    assert "Retrying from 2 Mar 2026 in 60 s (attempt 2)." in limited.error
    assert limited.details == {
        "done_through": (SINCE + timedelta(days=29)).isoformat(),
        "failures": 1,
    }
    assert sync.sync_account(account.id, SINCE, END, run_id=run.id)["status"] == "succeeded"
    assert db_totals(account.id, SINCE, END) == truth(sandbox)


def test_one_live_run_per_account_even_when_two_requests_race(point_at_sandbox, monkeypatch):
    account = connect()
    first = SyncRun(account_id=account.id, kind="meta_sync", status="running", since=SINCE)
    db.session.add(first)
    db.session.commit()
    # Both "Sync now" presses got past the liveness check at the same moment.
    monkeypatch.setattr(sync_runs, "active_run", lambda account_id: None)
    run = sync.start_sync(account.id, SINCE, END)
    assert run.id == first.id and run.status == "running"
    assert db.session.scalar(select(func.count(SyncRun.id))) == 1

    db.session.add(SyncRun(account_id=account.id, kind="meta_sync", status="queued"))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
    # Imports and finished runs are not limited.
    db.session.add_all(
        [
            SyncRun(account_id=account.id, kind="csv_import", status="running"),
            SyncRun(account_id=account.id, kind="meta_sync", status="failed"),
            SyncRun(account_id=account.id, kind="meta_sync", status="succeeded"),
        ]
    )
    db.session.commit()


def test_connecting_does_not_need_a_currency_and_the_sync_reads_it(
    point_at_sandbox, client, login_as
):
    account = services.connect_meta_account("act_1003", DEFAULT_TOKEN)
    db.session.commit()
    assert not account.currency_known and str(account) == "act_1003"
    login_as("marketer")
    page = client.get(f"/ads/accounts/{account.id}").get_data(as_text=True)
    assert "read from Meta at the first sync" in page and "USD" not in page
    run = sync.start_sync(account.id, SINCE, END)
    assert run.status == "succeeded", run.error
    assert db.session.get(AdAccount, account.id).currency == "JPY"
    assert set(db.session.scalars(select(SpendFact.currency).distinct())) == {"JPY"}
    page = client.get(f"/ads/accounts/{account.id}").get_data(as_text=True)
    assert "<dd>JPY</dd>" in page


def test_a_currency_nobody_names_stops_the_sync_with_a_reason(point_at_sandbox):
    point_at_sandbox.state.set_faults({"unsupported": {"endpoint": "account", "count": "always"}})
    account = services.connect_meta_account("act_1001", DEFAULT_TOKEN)
    db.session.commit()
    # No delivery in the window: the insights cannot name the currency either.
    run = sync.start_sync(account.id, END + timedelta(days=30), END + timedelta(days=40))
    assert run.status == "failed"
    assert "did not say which currency" in run.error
    assert db.session.scalar(select(func.count(SpendFact.id))) == 0


def test_report_runs_that_keep_failing_give_way_to_shorter_windows(point_at_sandbox):
    sandbox = point_at_sandbox
    sandbox.state.set_faults({"job_failed": {"count": 2, "status": "Job Failed"}})
    account = connect()
    run = sync.start_sync(account.id, SINCE, END)  # 60 days: one async report run
    assert run.status == "succeeded", run.error
    assert sandbox.state.stats()["report_runs"] == 2  # then two synchronous 30-day reads
    assert db_totals(account.id, SINCE, END) == truth(sandbox)
