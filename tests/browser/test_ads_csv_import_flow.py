"""In Chromium, as a marketer: import a Google Ads daily export, see the row report of a file
with bad rows, find the new account, map its campaign, and see the spend on the campaign's
performance page."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from core.extensions import db
from tests import factories
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

DATA = Path(__file__).resolve().parents[1] / "ads" / "data"


def _count(page: Page, label: str) -> int:
    result = page.locator("#import-result dl.kv")
    value = result.locator("dt", has_text=label).locator("xpath=following-sibling::dd[1]")
    return int(value.inner_text().replace(",", ""))


def test_marketer_imports_a_google_ads_export_and_maps_it(page: Page, sign_in, users) -> None:
    campaign = factories.CampaignFactory(
        owner=users["marketer"],
        name="Brand Search Spring",
        currency="EUR",
        start_date=date(2026, 2, 15),
        end_date=date(2026, 3, 31),
        status="active",
    )
    db.session.commit()
    sign_in(users["marketer"].email, PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Ad accounts").click()
    page.get_by_role("link", name="Import a CSV export").click()

    # Nothing chosen: the message sits beside the file field.
    page.get_by_role("button", name="Import").click()
    expect(page.locator('p.error[data-error-for="file"]')).to_be_visible()

    page.get_by_label("Platform").select_option("google_ads")
    page.get_by_label("Daily campaign export (CSV)").set_input_files(
        DATA / "google_ads_campaign_report.csv"
    )
    page.get_by_role("button", name="Import").click()
    result = page.locator("#import-result")
    expect(result.get_by_role("status")).to_contain_text("Imported")
    assert _count(page, "New rows") > 0 and _count(page, "Rejected rows") == 0

    # The same file again changes nothing.
    page.get_by_label("Platform").select_option("google_ads")
    page.get_by_label("Daily campaign export (CSV)").set_input_files(
        DATA / "google_ads_campaign_report.csv"
    )
    page.get_by_role("button", name="Import").click()
    expect(page.locator("#import-result")).to_be_visible()
    assert _count(page, "New rows") == 0 and _count(page, "Updated rows") == 0

    # A file with bad rows: the good ones are kept, each bad one is listed with its row.
    page.get_by_label("Platform").select_option("google_ads")
    page.get_by_label("Daily campaign export (CSV)").set_input_files(
        DATA / "google_ads_bad_rows.csv"
    )
    page.get_by_role("button", name="Import").click()
    report = page.locator("#import-result table.row-errors tbody tr")
    expect(report.first).to_be_visible()
    assert report.count() == _count(page, "Rejected rows") > 0
    expect(report.first.locator("td").first).to_have_text(re.compile(r"^\d+$"))

    # The account is listed, with its spend not yet mapped to any Flightdeck campaign.
    page.goto("/ads/")
    expect(page.locator("main .flash-warning")).to_contain_text("Spend not mapped")
    page.locator("#accounts a").filter(has_text=re.compile("123-456-7890|Stride")).first.click()
    mapping = page.locator("#mapping tbody tr", has_text="Brand Search DE")
    expect(mapping).to_contain_text("unmapped")
    mapping.get_by_label("Map Brand Search DE").select_option(label="Brand Search Spring")
    mapping.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("mapping saved")
    mapping = page.locator("#mapping tbody tr", has_text="Brand Search DE")
    expect(mapping.get_by_role("link", name="Brand Search Spring")).to_be_visible()

    # The campaign's performance page counts that spend.
    page.goto(f"/performance/campaigns/{campaign.id}?since=2026-03-01&until=2026-03-03")
    spend = page.locator('section.kpis[data-currency="EUR"] [data-kpi="spend"]')
    expect(spend).to_have_text(re.compile(r"^€[\d,]+\.\d\d$"))
    assert spend.inner_text() != "€0.00"
