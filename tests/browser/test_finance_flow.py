"""In Chromium, as finance: a rejection needs a reason and shows it, an FX rate is kept, and
the performance export downloads the synced spend (one row per platform campaign, a total per
currency) from the Finance page."""

from __future__ import annotations

import csv
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from core.extensions import db
from core.types import utcnow
from tests.budgets.factories import BudgetFactory, CampaignFactory, LineFactory, spend
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_finance_rejects_with_a_reason_keeps_a_rate_and_exports_performance(
    page: Page, sign_in, users, tmp_path
) -> None:
    today = datetime.now(UTC).date()
    budget = BudgetFactory(owner=users["finance"], name="Q budget EMEA", total_minor=5_000_000)
    campaign = CampaignFactory(
        owner=users["marketer"],
        name="Aurora Trail Launch",
        start_date=budget.start_date,
        end_date=budget.end_date,
    )
    LineFactory(
        budget=budget,
        campaign=campaign,
        planned_minor=300_000,
        status="submitted",
        submitted_at=utcnow(),
        note="Burst before the holidays",
    )
    days = [today - timedelta(days=n) for n in (3, 2, 1)]
    spend(campaign, dict.fromkeys(days, 12_345))
    db.session.commit()

    sign_in(users["finance"].email, PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Finance").click()
    page.get_by_role("link", name=re.compile("€3,000.00 for Aurora Trail Launch")).click()

    # A rejection without a reason is refused; with one, the requester can read it.
    row = page.locator("#budget-lines tbody tr", has_text="Aurora Trail Launch")
    row.get_by_role("button", name="Reject").click()
    expect(page.get_by_role("status")).to_have_text("Give a reason: the requester sees it.")
    row = page.locator("#budget-lines tbody tr", has_text="Aurora Trail Launch")
    expect(row.locator(".lstatus")).to_have_text("submitted")
    # ...and said again in the row, which the page opens at.
    expect(row.get_by_role("alert")).to_have_text("Give a reason: the requester sees it.")
    assert re.search(r"#line-\d+$", page.url)
    expect(row).to_be_in_viewport()
    row.get_by_label(re.compile(r"^Comment on line")).fill("Wait for the Q1 plan")
    row.get_by_role("button", name="Reject").click()
    row = page.locator("#budget-lines tbody tr", has_text="Aurora Trail Launch")
    expect(row.locator(".lstatus")).to_have_text("rejected")
    expect(row.locator(".comment")).to_contain_text("Wait for the Q1 plan")

    # An FX rate through the form.
    page.goto("/budgets/fx/")
    page.get_by_label("Date").fill(today.isoformat())
    page.get_by_label("Rate (1 From = rate To)").fill("0.9215")
    page.get_by_label("From", exact=True).select_option("USD")
    page.get_by_label("To", exact=True).select_option("EUR")
    page.get_by_role("button", name="Save rate").click()
    expect(page.get_by_role("status")).to_have_text(
        f"Rate saved: 1 USD = 0.9215 EUR on {today:%d %b %Y}."
    )

    # The performance export, from the Finance page.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Finance").click()
    export = page.locator("#performance-export")
    export.get_by_label("From").fill(days[0].isoformat())
    export.get_by_label("To").fill(days[-1].isoformat())
    with page.expect_download() as download:
        export.get_by_role("button", name="Download performance CSV").click()
    assert download.value.suggested_filename == (
        f"performance-{days[0].isoformat()}-{days[-1].isoformat()}.csv"
    )
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["flightdeck_campaign"] for r in rows] == ["Aurora Trail Launch", ""]
    assert Decimal(rows[0]["spend"]) == Decimal("370.35")  # 3 × €123.45
    assert (rows[1]["platform"], rows[1]["currency"]) == ("TOTAL", "EUR")
    assert Decimal(rows[1]["spend"]) == Decimal("370.35")

    # An empty period says so, beside the form, instead of an empty file.
    export = page.locator("#performance-export")
    export.get_by_label("From").fill("2020-01-01")
    export.get_by_label("To").fill("2020-01-31")
    export.get_by_role("button", name="Download performance XLSX").click()
    expect(page.get_by_role("status")).to_contain_text("nothing to export")
    expect(page.locator("#performance-export")).to_be_visible()
