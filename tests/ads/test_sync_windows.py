"""Sync windows: complete days in the account's time zone, within Meta's 37 months, and a
clear refusal (with nothing written) for a window Meta cannot have."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from ads import services, sync
from ads.models import AdAccount, SyncRun
from ads.sandbox import DEFAULT_TOKEN
from ads.sync_window import (
    WindowRefused,
    account_today,
    resolve_window,
    retention_floor,
    synced_through_after,
)
from core.extensions import db
from tests.ads.conftest import END
from tests.ads.test_sync import SINCE, connect, db_totals, truth


@pytest.fixture
def point_at_sandbox(app, sandbox, monkeypatch):
    monkeypatch.setitem(app.config, "META_GRAPH_URL", sandbox.url)
    monkeypatch.setitem(app.config, "META_POLL_INTERVAL", 0.01)
    return sandbox


def account(tz: str = "UTC", synced_through: date | None = None) -> AdAccount:
    return AdAccount(timezone=tz, backfill_days=90, synced_through=synced_through)


TODAY = date(2026, 12, 4)


def test_the_window_ends_yesterday_unless_today_so_far_is_asked_for():
    acc = account()
    w = resolve_window(acc, date(2026, 11, 1), date(2027, 1, 31), today=TODAY)
    assert (w.since, w.until) == (date(2026, 11, 1), date(2026, 12, 3))
    assert "ends 3 Dec 2026, yesterday in the account's time zone (UTC)" in w.note
    assert "not 31 Jan 2027" in w.note
    today = resolve_window(acc, date(2026, 11, 1), None, today_so_far=True, today=TODAY)
    assert (today.until, today.today_so_far) == (TODAY, True)
    asked = resolve_window(acc, date(2026, 11, 1), TODAY, today=TODAY)
    assert asked.until == date(2026, 12, 3) and not asked.today_so_far
    plain = resolve_window(acc, date(2026, 11, 1), date(2026, 11, 30), today=TODAY)
    assert (plain.until, plain.note) == (date(2026, 11, 30), "")


def test_yesterday_is_counted_in_the_accounts_time_zone():
    # 4 Dec 2026 at 23:30 UTC is already 5 Dec in Auckland, still 4 Dec in Los Angeles.
    now = datetime(2026, 12, 4, 23, 30, tzinfo=UTC)
    assert account_today(account("Pacific/Auckland"), now) == date(2026, 12, 5)
    assert account_today(account("America/Los_Angeles"), now) == date(2026, 12, 4)
    assert account_today(account("Not/AZone"), now) == date(2026, 12, 4)  # falls back to UTC


@pytest.mark.parametrize(
    ("since", "until", "words"),
    [
        (date(2030, 1, 1), date(2030, 1, 31), "1 Jan 2030 has not ended yet"),
        (TODAY, TODAY, "4 Dec 2026 has not ended yet"),
        (date(1900, 1, 1), date(1900, 1, 31), "Meta keeps insights for 37 months"),
        (date(2016, 12, 1), date(2026, 11, 30), "the earliest day to sync is 4 Nov 2023"),
        (date(2026, 11, 5), date(2026, 11, 1), "on or before the end date"),
    ],
)
def test_windows_meta_cannot_have_are_refused(since, until, words):
    with pytest.raises(WindowRefused) as refused:
        resolve_window(account(), since, until, today=TODAY)
    assert words in str(refused.value)


def test_the_retention_floor_is_37_months_back():
    assert retention_floor(date(2026, 12, 4)) == date(2023, 11, 4)
    assert retention_floor(date(2027, 3, 31)) == date(2024, 2, 29)  # clipped to the month
    # A backfill asking for more than Meta keeps starts at the floor instead of failing.
    old = account()
    old.backfill_days = 5000
    assert resolve_window(old, None, None, today=TODAY).since == date(2023, 11, 4)


def test_synced_through_never_passes_yesterday():
    acc = account(synced_through=date(2026, 11, 20))
    assert synced_through_after(acc, date(2026, 12, 4), TODAY) == date(2026, 12, 3)
    assert synced_through_after(acc, date(2026, 11, 10), TODAY) == date(2026, 11, 20)
    stale = account(synced_through=date(2027, 1, 31))  # written before the clamp
    assert synced_through_after(stale, date(2026, 11, 30), TODAY) == date(2026, 12, 3)


@pytest.mark.parametrize(
    ("since", "until", "words"),
    [
        (date(1900, 1, 1), date(1900, 1, 31), "Meta keeps insights for 37 months"),
        (date(2030, 1, 1), date(2030, 1, 31), "1 Jan 2030 has not ended yet"),
    ],
)
def test_a_sync_in_1900_or_2030_is_refused_and_writes_nothing(
    point_at_sandbox, since, until, words
):
    acc = connect()
    with pytest.raises(sync.SyncRefused) as refused:
        sync.start_sync(acc.id, since, until)
    assert words in str(refused.value)
    assert db.session.scalar(select(func.count(SyncRun.id))) == 0
    assert point_at_sandbox.state.stats()["requests"] == 0


def test_a_window_into_the_future_syncs_to_yesterday_and_says_so(
    point_at_sandbox, client, login_as
):
    acc = connect()
    login_as("marketer")
    future = date.today() + timedelta(days=60)
    html = client.post(
        f"/ads/accounts/{acc.id}/sync",
        data={"since": SINCE.isoformat(), "until": future.isoformat()},
        follow_redirects=True,
    ).get_data(as_text=True)
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    db.session.expire_all()
    assert f"The window ends {yesterday:%-d %b %Y}, yesterday" in html
    run = db.session.scalars(select(SyncRun)).one()
    assert (run.since, run.until, run.status) == (SINCE, yesterday, "succeeded")
    assert db.session.get(AdAccount, acc.id).synced_through == yesterday
    assert db_totals(acc.id, SINCE, END) == truth(point_at_sandbox)


def test_the_cli_refuses_a_window_in_one_line(app, point_at_sandbox):
    services.connect_meta_account("act_1001", DEFAULT_TOKEN, currency="EUR")
    db.session.commit()
    runner = app.test_cli_runner()
    out = runner.invoke(
        args=["ads", "sync", "--account-id", "act_1001", "--since", "2030-01-01"],
        catch_exceptions=False,
    )
    assert out.exit_code == 2
    assert "1 Jan 2030 has not ended yet" in out.output and "Traceback" not in out.output
    huge = runner.invoke(args=["ads", "sync", "--account-id", "99999999999999999999"])
    assert huge.exit_code == 2 and "No ad account 99999999999999999999" in huge.output
    assert db.session.scalar(select(func.count(SyncRun.id))) == 0
