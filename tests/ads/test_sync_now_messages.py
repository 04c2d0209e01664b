"""What "Sync now" says: rows stored when the sync finished in the request, the
reason when it failed."""

from __future__ import annotations

from datetime import timedelta

from ads import services
from ads.sandbox import DEFAULT_TOKEN
from core.extensions import db
from tests.ads.conftest import END

SINCE = END - timedelta(days=9)


def _account(app, sandbox, monkeypatch):
    monkeypatch.setitem(app.config, "META_GRAPH_URL", sandbox.url)
    monkeypatch.setitem(app.config, "META_POLL_INTERVAL", 0.01)
    monkeypatch.setitem(app.config, "REDIS_URL", None)  # inline, whatever the env says
    account = services.connect_meta_account("act_1001", DEFAULT_TOKEN, currency="EUR")
    db.session.commit()
    return account


def _sync_now(client, account):
    return client.post(
        f"/ads/accounts/{account.id}/sync",
        data={"since": SINCE.isoformat(), "until": END.isoformat()},
        follow_redirects=True,
    )


def test_a_finished_sync_says_how_many_rows_it_stored(app, sandbox, monkeypatch, client, login_as):
    account = _account(app, sandbox, monkeypatch)
    login_as("marketer")
    response = _sync_now(client, account)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.request.path.startswith("/ads/runs/")
    flash = html.split('class="flash flash-success" role="status">')[1].split("</div>")[0]
    assert flash.startswith(f"Sync finished for {SINCE:%d %b %Y} – {END:%d %b %Y}: ")
    assert " new, 0 updated, 0 restated rows." in flash
    new_rows = int(flash.split(": ")[1].split(" new")[0].replace(",", ""))
    assert new_rows > 0
    assert f'<dd id="run-inserted">{new_rows}</dd>' in html  # the run page agrees


def test_a_failed_sync_says_why(app, sandbox, monkeypatch, client, login_as):
    account = _account(app, sandbox, monkeypatch)
    sandbox.state.set_faults({"token_expired": "always"})
    login_as("marketer")
    html = _sync_now(client, account).get_data(as_text=True)
    flash = html.split('class="flash flash-error" role="status">')[1].split("</div>")[0]
    assert flash.startswith("The sync failed: ") and "Reconnect" in flash
    assert DEFAULT_TOKEN not in html
