"""The sync against a second Graph API server that writes its answers its own way
(tests/ads/other_graph.py): same totals, whatever the formatting."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from ads.models import AdAccount, SpendFact, SyncRun
from core.extensions import db
from tests.ads.other_graph import ACCOUNT, DAYS, FIRST_DAY, TOKEN, serve_other_graph, truth


@pytest.fixture
def other_graph(app, monkeypatch):
    with serve_other_graph() as server:
        monkeypatch.setitem(app.config, "META_GRAPH_URL", server.url)
        monkeypatch.setitem(app.config, "META_POLL_INTERVAL", 0.01)
        monkeypatch.setitem(app.config, "META_PAGE_SIZE", 500)  # the server caps it at 100
        yield server


def stored(since, until) -> dict:
    row = db.session.execute(
        select(
            func.count(SpendFact.id),
            func.sum(SpendFact.spend_minor),
            func.sum(SpendFact.purchases),
            func.sum(SpendFact.conversion_value_minor),
            func.sum(SpendFact.leads),
        ).where(SpendFact.day.between(since, until))
    ).one()
    return {
        "rows": row[0],
        "spend": Decimal(int(row[1] or 0)).scaleb(-2),
        "purchases": int(row[2] or 0),
        "value": Decimal(int(row[3] or 0)).scaleb(-2),
        "leads": int(row[4] or 0),
    }


@pytest.mark.parametrize("days", [20, DAYS], ids=["synchronous", "async-report-run"])
def test_cli_connect_and_sync_match_the_other_servers_numbers(app, other_graph, days):
    since, until = FIRST_DAY, FIRST_DAY + timedelta(days=days - 1)
    cli = app.test_cli_runner()
    connected = cli.invoke(args=["ads", "connect", "--account-id", ACCOUNT, "--token", TOKEN])
    assert connected.exit_code == 0, connected.output
    assert TOKEN not in connected.output

    synced = cli.invoke(
        args=["ads", "sync", "--account-id", ACCOUNT, "--since", str(since), "--until", str(until)]
    )
    assert synced.exit_code == 0, synced.output
    db.session.expire_all()
    account = db.session.scalars(select(AdAccount)).one()
    assert account.currency == "GBP"  # from the insights: this server has no account node
    assert stored(since, until) == truth(since, until)
    run = db.session.scalars(select(SyncRun)).one()
    assert run.status == "succeeded" and run.rows_inserted == truth(since, until)["rows"]
    assert run.pages == -(-truth(since, until)["rows"] // 100)  # pages of 100, none lost
    if days > 31:
        assert any(r.startswith("POST") for r in other_graph.requests)

    again = cli.invoke(
        args=["ads", "sync", "--account-id", ACCOUNT, "--since", str(since), "--until", str(until)]
    )
    assert again.exit_code == 0, again.output
    assert "0 new, 0 updated, 0 restated" in again.output
    assert stored(since, until) == truth(since, until)
