"""The Meta sync end to end: facebook-business over HTTP to the sandbox, into the database."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from redis import Redis
from rq.registry import ScheduledJobRegistry
from sqlalchemy import func, select

from ads import services, sync
from ads.models import AdAccount, Restatement, SpendFact, SyncRun
from ads.sandbox import DEFAULT_TOKEN
from core.extensions import db
from tests.ads.conftest import END
from tests.ads.workers import release_app
from tests.conftest import make_app

ACCOUNT = "act_1001"
SINCE = END - timedelta(days=59)


@pytest.fixture
def point_at_sandbox(app, sandbox, monkeypatch):
    monkeypatch.setitem(app.config, "META_GRAPH_URL", sandbox.url)
    monkeypatch.setitem(app.config, "META_POLL_INTERVAL", 0.01)
    return sandbox


def connect(currency: str = "EUR") -> AdAccount:
    account = services.connect_meta_account(ACCOUNT, DEFAULT_TOKEN, currency=currency)
    db.session.commit()
    return account


def db_totals(account_id: int, since: date, until: date) -> dict:
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
    return {
        "rows": row[0],
        "spend": Decimal(int(row[1] or 0)).scaleb(-2),
        "impressions": int(row[2] or 0),
        "clicks": int(row[3] or 0),
        "purchases": int(row[4] or 0),
        "purchase_value": Decimal(int(row[5] or 0)).scaleb(-2),
        "leads": int(row[6] or 0),
    }


def truth(sandbox, since: date = SINCE, until: date = END) -> dict:
    t = sandbox.data.totals(ACCOUNT, since, until)
    return {
        k: t[k]
        for k in ("rows", "spend", "impressions", "clicks", "purchases", "purchase_value", "leads")
    }


def test_sync_matches_ground_truth_and_rerun_changes_nothing(point_at_sandbox):
    sandbox = point_at_sandbox
    account = connect()
    run = sync.start_sync(account.id, SINCE, END)
    assert run.status == "succeeded", run.error
    assert run.progress == 100
    assert db_totals(account.id, SINCE, END) == truth(sandbox)
    assert run.rows_inserted == truth(sandbox)["rows"]
    assert run.requests >= 3 and run.pages >= 1
    assert db.session.get(AdAccount, account.id).synced_through == END

    again = sync.start_sync(account.id, SINCE, END)
    assert again.id != run.id and again.status == "succeeded"
    assert (again.rows_inserted, again.rows_updated, again.rows_restated) == (0, 0, 0)
    assert again.rows_unchanged == truth(sandbox)["rows"]
    assert db_totals(account.id, SINCE, END) == truth(sandbox)


def test_restated_numbers_are_recorded_and_shown(point_at_sandbox, client, login_as, users):
    from tests import factories

    sandbox = point_at_sandbox
    account = connect()
    assert sync.start_sync(account.id, SINCE, END).status == "succeeded"
    campaign = factories.CampaignFactory(owner=users["marketer"], start_date=SINCE, end_date=END)
    db.session.commit()
    pc = db.session.get(AdAccount, account.id).platform_campaigns[0]
    services.map_manually(pc, campaign.id)
    db.session.commit()

    sandbox.state.set_faults({"restate": {"days": 3}})
    run = sync.start_sync(account.id, END - timedelta(days=27), END)
    assert run.status == "succeeded", run.error
    assert run.rows_restated > 0
    assert db_totals(account.id, SINCE, END) == truth(sandbox)  # the restated truth
    change = db.session.scalars(
        select(Restatement).where(Restatement.field == "spend_minor").limit(1)
    ).one()
    assert change.new_value > change.old_value
    assert change.day > END - timedelta(days=3)

    login_as("viewer")
    page = client.get(f"/performance/campaigns/{campaign.id}?since={SINCE}&until={END}").get_data(
        as_text=True
    )
    assert "changed" in page and f"{change.day:%-d %b}" in page


def test_expired_token_flags_the_account_and_stops(point_at_sandbox):
    sandbox = point_at_sandbox
    account = connect()
    sandbox.state.set_faults({"token_expired": "always"})
    run = sync.start_sync(account.id, SINCE, END)
    assert run.status == "failed"
    assert "Reconnect" in run.error
    refreshed = db.session.get(AdAccount, account.id)
    assert refreshed.status == "needs_reauth"
    assert "190" in refreshed.status_reason or "expired" in refreshed.status_reason.lower()
    assert DEFAULT_TOKEN not in run.error and DEFAULT_TOKEN not in refreshed.status_reason
    assert db_totals(account.id, SINCE, END)["rows"] == 0


def test_rate_limit_inline_says_when_to_retry(point_at_sandbox):
    sandbox = point_at_sandbox
    account = connect()
    sandbox.state.set_faults({"rate_limit": {"count": 1, "code": 80000, "regain_minutes": 2}})
    run = sync.start_sync(account.id, SINCE, END)
    assert run.status == "failed"
    assert (
        run.error.startswith("Rate limited by Meta (80000") and "Try again in 120 s." in run.error
    )


def test_rate_limit_with_redis_re_enqueues_later(point_at_sandbox, database_url, redis_url):
    sandbox = point_at_sandbox
    queued_app = make_app(
        database_url, REDIS_URL=redis_url, META_GRAPH_URL=sandbox.url, META_POLL_INTERVAL=0.01
    )
    with queued_app.app_context():
        account = connect()
        run_row = SyncRun(account_id=account.id, kind="meta_sync", since=SINCE, until=END)
        db.session.add(run_row)
        db.session.flush()
        run_row.job_id = sync.job_id_for(run_row)
        db.session.commit()
        sandbox.state.set_faults({"rate_limit": {"count": 1, "code": 17}})
        result = sync.sync_account(account.id, SINCE, END, run_id=run_row.id)  # as a worker would
        assert result["status"] == "retrying"
        run = db.session.get(SyncRun, run_row.id)
        assert run.status == "retrying" and run.next_retry_at is not None
        assert "Retrying in" in run.error
        conn = Redis.from_url(redis_url)
        scheduled = ScheduledJobRegistry("default", connection=conn)
        assert scheduled.get_job_ids() == [sync.job_id_for(run, 1)]
        conn.close()
        # A second "Sync now" while the retry is scheduled returns the same run.
        assert sync.start_sync(account.id).id == run.id
        release_app(queued_app)


def test_backoff_grows_and_honours_hints():
    assert sync.backoff_seconds(1, None) == 60
    assert sync.backoff_seconds(3, None) == 240
    assert sync.backoff_seconds(20, None) == sync.BACKOFF_CAP_SECONDS
    assert sync.backoff_seconds(1, 600.0) == 600


def test_default_window_backfills_then_repulls_attribution_window():
    account = AdAccount(backfill_days=90, synced_through=None)
    today = date(2026, 3, 31)
    assert sync.default_window(account, today) == (date(2025, 12, 31), date(2026, 3, 30))
    account.synced_through = date(2026, 3, 30)
    assert sync.default_window(account, today) == (date(2026, 3, 3), date(2026, 3, 30))
