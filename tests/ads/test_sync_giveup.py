"""A sync that keeps failing is visible (account page, admin notice) and retried nightly with
back-off; a sync already under way is joined, and the CLI and the UI say whose it is."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from ads import services, sync, sync_runs
from ads.models import SyncRun
from ads.sandbox import DEFAULT_TOKEN
from ads.sync_health import due_for_nightly, failing
from budgets.models import Notification
from core.extensions import db
from core.models import User
from core.types import utcnow
from tests.ads.conftest import END
from tests.ads.test_sync import ACCOUNT
from tests.ads.workers import release_app
from tests.conftest import login, make_app

SINCE = END - timedelta(days=29)


@pytest.fixture
def queued(database_url, redis_url, sandbox, users):
    application = make_app(
        database_url, REDIS_URL=redis_url, META_GRAPH_URL=sandbox.url, META_POLL_INTERVAL=0.01
    )
    with application.app_context():
        yield application
        release_app(application)


def test_retries_exhausted_show_on_the_account_tell_the_admins_and_back_off(queued, sandbox):
    account = services.connect_meta_account(ACCOUNT, DEFAULT_TOKEN, currency="EUR")
    db.session.commit()
    run, _ = sync_runs.open_run(account, SINCE, END, None)
    sandbox.state.set_faults({"server_error": {"count": "always", "match": "insights"}})
    for attempt in range(1, sync.MAX_ATTEMPTS):  # as the worker runs each scheduled retry
        result = sync.sync_account(account.id, SINCE, END, run_id=run.id)
        assert result["status"] == "retrying", (attempt, result)
    assert db.session.scalars(select(Notification)).all() == []  # retrying is not failing
    final = sync.sync_account(account.id, SINCE, END, run_id=run.id)
    assert final["status"] == "failed"
    assert final["error"].startswith("Gave up after 6 failed attempts: temporary Meta error")

    state = failing(account)
    assert state is not None and state.runs == 1 and state.next_try > utcnow()
    client = queued.test_client()
    login(client, "viewer@example.test")
    page = client.get(f"/ads/accounts/{account.id}").get_data(as_text=True)
    banner = re.search(r'id="sync-failing">([^<]*)<', page).group(1)
    assert banner.startswith("Sync failing since ")
    assert "Gave up after 6 failed attempts: temporary Meta error" in banner
    assert f"next try {state.next_try:%-d %b %Y %H:%M} UTC (nightly sync)" in banner

    admin = db.session.scalar(select(User).where(User.email == "admin@example.test"))
    notices = db.session.scalars(select(Notification)).all()
    assert [n.user_id for n in notices] == [admin.id]  # admins only, once
    assert notices[0].message.startswith("Meta sync of ") and ACCOUNT in notices[0].message
    assert ": Sync failing since " in notices[0].message
    assert notices[0].url == f"/ads/accounts/{account.id}"

    # The nightly sync keeps the account, on a back-off: not the night after the give-up's
    # evening, but the one after; a second failure waits two nights.
    assert not due_for_nightly(account)
    assert sync.sync_all_accounts() == []
    assert due_for_nightly(account, utcnow() + timedelta(hours=13))
    second, _ = sync_runs.open_run(account, SINCE, END, None)
    sync.close_run(second.id, "Failed again.")
    assert failing(account).runs == 2
    assert not due_for_nightly(account, utcnow() + timedelta(hours=13))
    assert due_for_nightly(account, utcnow() + timedelta(days=1, hours=13))

    sandbox.state.reset_faults()  # Meta is back: one good run clears it all
    good, _ = sync_runs.open_run(account, SINCE, END, None)
    assert sync.sync_account(account.id, SINCE, END, run_id=good.id)["status"] == "succeeded"
    assert failing(account) is None and due_for_nightly(account)
    page = client.get(f"/ads/accounts/{account.id}").get_data(as_text=True)
    assert "Sync failing since" not in page


def test_the_cli_joins_a_live_run_and_says_whose_it_is(app, users, monkeypatch, sandbox):
    monkeypatch.setitem(app.config, "SYNC_STALE_SECONDS", 1)
    account = services.connect_meta_account(ACCOUNT, DEFAULT_TOKEN, currency="EUR")
    db.session.commit()
    started = utcnow() - timedelta(minutes=3)
    live = SyncRun(
        account_id=account.id,
        kind="meta_sync",
        status="running",
        since=SINCE,
        until=END,
        progress=40,
        started_at=started,
        heartbeat_at=utcnow(),
        started_by_id=users["marketer"].id,
    )
    db.session.add(live)
    db.session.commit()
    out = app.test_cli_runner().invoke(args=["ads", "sync", "--account-id", ACCOUNT])
    assert out.output.startswith(
        f"Joined run {live.id} (started {started:%H:%M} UTC by Marketer Tester), running at 40%."
    )
    # Nobody beats it (no process is on it): the CLI says so instead of waiting for ever.
    assert out.exit_code == 1
    assert f"Run {live.id} stopped beating (its process died)" in out.output
    assert db.session.scalar(select(SyncRun.id).where(SyncRun.id != live.id)) is None
