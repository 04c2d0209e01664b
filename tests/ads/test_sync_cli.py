"""`flask ads sync` against a Graph API that fails every few requests: it retries, waits out
short rate limits, resumes after the last stored page, and ends on the sandbox's truth."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import requests
from sqlalchemy import func, select

from ads import services, sync
from ads.models import SpendFact, SyncRun
from ads.sandbox import DEFAULT_TOKEN
from core.extensions import db
from tests.ads.conftest import END
from tests.ads.test_sync import ACCOUNT, db_totals

SINCE = END - timedelta(days=59)


@pytest.fixture
def cli(app, sandbox, monkeypatch):
    monkeypatch.setitem(app.config, "META_GRAPH_URL", sandbox.url)
    monkeypatch.setitem(app.config, "META_POLL_INTERVAL", 0.01)
    monkeypatch.setitem(app.config, "META_PAGE_SIZE", 25)
    monkeypatch.setitem(app.config, "SYNC_CLI_RETRY_BASE_SECONDS", 1)
    services.connect_meta_account(ACCOUNT, DEFAULT_TOKEN, currency="EUR")
    db.session.commit()
    runner = app.test_cli_runner()

    def run(*extra: str):
        args = ["ads", "sync", "--account-id", ACCOUNT, "--since", str(SINCE), "--until", str(END)]
        return runner.invoke(args=[*args, *extra], catch_exceptions=False)

    return run


def sandbox_truth(sandbox) -> dict:
    """What the sandbox itself says over HTTP (/__sandbox/truth), in the test's units."""
    with requests.Session() as http:
        http.trust_env = False
        got = http.get(
            f"{sandbox.url}/__sandbox/truth",
            params={"account_id": ACCOUNT, "since": str(SINCE), "until": str(END)},
            timeout=10,
        ).json()
    keys = ("rows", "impressions", "clicks", "purchases", "leads")
    out: dict = {k: int(got[k]) for k in keys}
    out["spend"], out["purchase_value"] = Decimal(got["spend"]), Decimal(got["purchase_value"])
    return out


def stored(account_id: int) -> dict:
    return db_totals(account_id, SINCE, END)


def test_faults_every_few_requests_still_end_on_the_truth(cli, sandbox):
    sandbox.state.set_faults(
        {
            # Every 5th insights request a 500, every 7th a rate limit, 17 and 80000 in turn,
            # lifting in a second (as Meta's usage headers say).
            "server_error": {"count": "always", "every": 5, "match": "insights"},
            "rate_limit": {
                "count": "always",
                "every": 7,
                "codes": [17, 80000],
                "regain_minutes": 0,
                "reset_seconds": 1,
                "match": "insights",
            },
        }
    )
    out = cli()
    assert out.exit_code == 0, out.output
    assert "Rate limited by Meta (17" in out.output
    assert "Rate limited by Meta (80000" in out.output
    assert "Temporary Meta error" in out.output and "resuming in" in out.output
    run = db.session.scalars(select(SyncRun)).one()
    assert (run.status, run.error) == ("succeeded", "")
    assert run.attempts > 3 and sandbox.state.stats()["errors"] >= 3
    assert stored(run.account_id) == sandbox_truth(sandbox)
    assert run.rows_inserted == sandbox_truth(sandbox)["rows"]  # nothing stored twice
    assert f"Run {run.id}: succeeded · {run.rows_inserted} new" in out.output


def test_a_long_rate_limit_ends_the_run_saying_when_to_rerun(cli, sandbox):
    sandbox.state.set_faults(
        {
            "rate_limit": {
                "count": 1,
                "skip": 3,  # the report run, then two pages of its results are served
                "code": 80000,
                "regain_minutes": 20,
                "match": "insights",
            }
        }
    )
    out = cli("--max-wait", "60")
    assert out.exit_code == 1
    assert "Rate limited by Meta (80000" in out.output
    assert "Not waiting 1200 s (more than --max-wait 60 s): rerun after " in out.output
    first = db.session.scalars(select(SyncRun)).one()
    assert first.status == "failed" and "rerun after" in first.error
    stored_rows = db.session.scalar(select(func.count(SpendFact.id)))
    assert stored_rows == 50 == first.rows_inserted  # two pages of 25

    again = cli()  # the limit has lifted: the rerun carries on where the first stopped
    assert again.exit_code == 0, again.output
    second = db.session.scalars(select(SyncRun).order_by(SyncRun.id.desc())).first()
    assert second.resumed_from_id == first.id
    assert "report_runs" in sandbox.state.stats() and sandbox.state.stats()["report_runs"] == 1
    assert second.rows_inserted + stored_rows == sandbox_truth(sandbox)["rows"]
    assert stored(first.account_id) == sandbox_truth(sandbox)


def test_transient_errors_in_a_row_give_up_after_the_bounded_retries(cli, sandbox, monkeypatch):
    monkeypatch.setattr(sync, "MAX_ATTEMPTS", 3)  # 1 s, then 2 s of back-off
    sandbox.state.set_faults({"server_error": {"count": "always", "match": "insights"}})
    out = cli()
    assert out.exit_code == 1
    run = db.session.scalars(select(SyncRun)).one()
    assert run.status == "failed" and run.error.startswith("Gave up after 3 failed attempts")
    assert run.attempts == 3 and "resuming in 2 s" in out.output
