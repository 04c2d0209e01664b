"""A marketer connects the Meta sandbox, syncs, maps a campaign and reads its ROAS in Chromium.

The Graph API sandbox is served on a loopback port for the module and the live app is pointed
at it. Jobs run inline (the suite's app has no REDIS_URL): the sync finishes inside the
"Sync now" request, before the redirect to the run page, so the progress bar is only ever
seen in its final state (100 %, succeeded). The test asserts that state and that the bar and
its percentage are on the page for the script to move.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from ads.models import SyncRun
from ads.sandbox import DEFAULT_TOKEN, RunningSandbox, SandboxData, serve_sandbox
from ads.sandbox.structure import SALES
from core.extensions import db
from tests import factories
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

ACCOUNT = "act_1001"
CAMPAIGN_NAME = "Trailhead Spring Push"
BACKFILL_DAYS = 60


def _path_is(pattern: str) -> re.Pattern[str]:
    return re.compile(rf"^https?://[^/]+{pattern}(\?.*)?$")


@pytest.fixture(scope="module")
def sandbox_server() -> Iterator[RunningSandbox]:
    # The sandbox's "today" is the app's (UTC): the default backfill ends yesterday.
    data = SandboxData(
        seed=11,
        end_date=datetime.now(UTC).date(),
        days=BACKFILL_DAYS + 10,
        campaigns=3,
        adsets_per_campaign=2,
        ads_per_adset=2,
    )
    with serve_sandbox(data) as running:
        yield running


@pytest.fixture
def sandbox(app: Flask, sandbox_server: RunningSandbox, monkeypatch) -> RunningSandbox:
    sandbox_server.state.reset()
    monkeypatch.setitem(app.config, "META_GRAPH_URL", sandbox_server.url)
    monkeypatch.setitem(app.config, "META_POLL_INTERVAL", 0.01)
    monkeypatch.setitem(app.config, "REDIS_URL", None)  # inline jobs, whatever the env says
    return sandbox_server


class Pages:
    """Every page the browser showed, to prove the token never appears in any of them."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.seen: list[tuple[str, str]] = []

    def snapshot(self) -> None:
        self.page.wait_for_load_state()
        self.seen.append((self.page.url, self.page.content()))

    def leaks(self, secret: str) -> list[str]:
        return [url for url, html in self.seen if secret in html or secret in url]


def _expected_roas(sandbox: RunningSandbox, campaign_ids: list[str], since, until) -> str:
    """The sandbox's ground truth for those platform campaigns, formatted like the tile."""
    totals = sandbox.data.totals(ACCOUNT, since, until, level="campaign")["campaigns"]
    spend = sum((totals[c]["spend"] for c in campaign_ids), Decimal(0))
    value = sum((totals[c]["purchase_value"] for c in campaign_ids), Decimal(0))
    assert spend > 0 and value > 0, "the mapped campaigns must have spend and sales"
    roas = (value / spend).quantize(Decimal("0.0001"), rounding=ROUND_HALF_EVEN)
    return "%.2f×" % roas  # noqa: UP031 - the template's own formatting


def test_marketer_syncs_maps_and_sees_roas(page: Page, sign_in, users, sandbox) -> None:
    marketer = users["marketer"]
    today = datetime.now(UTC).date()
    campaign = factories.CampaignFactory(
        owner=marketer,
        name=CAMPAIGN_NAME,
        start_date=today - timedelta(days=BACKFILL_DAYS + 5),
        end_date=today + timedelta(days=30),
        currency="EUR",
        status="active",
    )
    db.session.commit()
    pages = Pages(page)

    sign_in(marketer.email, PASSWORD)
    expect(page).to_have_url(_path_is("/"))
    pages.snapshot()

    # Connect the sandbox account through the form.
    page.goto("/ads/connect")
    expect(page.get_by_role("heading", name="Connect a Meta ad account")).to_be_visible()
    page.get_by_label("Ad account id").fill(ACCOUNT)
    page.get_by_label("Account currency").select_option("EUR")
    page.get_by_label("Access token").fill(DEFAULT_TOKEN)
    page.get_by_label("Backfill on first sync (days)").fill(str(BACKFILL_DAYS))
    pages.snapshot()  # the filled form (a password input: its value is not in the markup)
    page.get_by_role("button", name="Connect").click()
    expect(page).to_have_url(_path_is(r"/ads/accounts/\d+"))
    account_url = page.url
    expect(page.get_by_role("status")).to_contain_text(f"Connected {ACCOUNT}")
    expect(page.locator("dl.kv")).to_contain_text("stored, encrypted")
    expect(page.get_by_text("No platform campaigns yet")).to_be_visible()
    pages.snapshot()

    # First sync: the run page shows the bar at 100 % and "succeeded".
    page.get_by_role("button", name="Sync now").click()
    expect(page).to_have_url(_path_is(r"/ads/runs/\d+"))
    expect(page.get_by_role("status")).to_contain_text(re.compile(r"^Sync finished for .+ new, "))
    progress = page.get_by_role("progressbar", name="Sync progress")
    expect(progress).to_be_visible()
    expect(page.locator("#run-status")).to_have_text("succeeded")
    expect(progress).to_have_attribute("aria-valuenow", "100")
    expect(page.locator("#run-progress .progress-bar")).to_have_attribute(
        "style", re.compile(r"width:\s*100%")
    )
    expect(page.locator("#run-percent")).to_have_text("100")
    expect(page.locator("#run-error")).to_have_text("")
    expect(page.locator("#run-inserted")).not_to_have_text("0")
    pages.snapshot()
    status = page.request.get(page.url + "/status")
    assert status.ok and status.json()["status"] == "succeeded"
    assert DEFAULT_TOKEN not in status.text()

    # Back on the account page the platform campaigns are listed: map a sales one by hand.
    page.get_by_role("link", name=re.compile("^← ")).click()
    expect(page).to_have_url(account_url)
    href = f"/campaigns/{campaign.id}"
    mapping = page.locator("#mapping tbody tr")
    expect(mapping).to_have_count(len(sandbox.data.campaigns_of(ACCOUNT)))
    pages.snapshot()
    # A sales campaign not already mapped to ours by a "[FD-n]" tag in its name.
    sales = next(
        c
        for c in sandbox.data.campaigns_of(ACCOUNT)
        if c.objective == SALES
        and mapping.filter(has_text=c.id).locator(f'a[href="{href}"]').count() == 0
    )
    row = mapping.filter(has_text=sales.id)
    expect(row.locator("td").nth(2)).to_have_text("unmapped")
    row.get_by_label(f"Map {sales.name}").select_option(label=CAMPAIGN_NAME)
    row.get_by_role("button", name="Save").click()
    expect(page).to_have_url(account_url)
    expect(page.get_by_role("status")).to_contain_text("mapping saved")
    row = page.locator("#mapping tbody tr").filter(has_text=sales.id)
    expect(row.get_by_role("link", name=CAMPAIGN_NAME)).to_be_visible()
    expect(row.locator("td").nth(3)).to_have_text("manual")
    pages.snapshot()

    # Everything the page shows as mapped to our campaign (a "[FD-n]" tag may add more).
    mapped = []
    for i in range(page.locator("#mapping tbody tr").count()):
        tr = page.locator("#mapping tbody tr").nth(i)
        if tr.locator(f'a[href="{href}"]').count():
            mapped.append(tr.locator("small.muted").inner_text().split(" · ")[0].strip())
    assert sales.id in mapped

    # Its Performance page: the ROAS tile is the sandbox's ground truth over the run's window.
    page.goto(href)
    pages.snapshot()
    page.get_by_role("link", name="Performance", exact=True).click()
    expect(page).to_have_url(_path_is(rf"/performance/campaigns/{campaign.id}"))
    db.session.expire_all()
    run = db.session.scalars(select(SyncRun).order_by(SyncRun.id.desc())).first()
    assert run is not None and run.status == "succeeded"
    roas = page.locator('section.kpis[data-currency="EUR"] [data-kpi="roas"]')
    expect(roas).to_have_text(re.compile(r"^\d+\.\d{2}×$"))  # a number, not "—"
    expect(roas).to_have_text(_expected_roas(sandbox, mapped, run.since, run.until))
    pages.snapshot()

    assert pages.leaks(DEFAULT_TOKEN) == []
    assert len(pages.seen) == 8
