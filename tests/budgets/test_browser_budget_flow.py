"""In Chromium: a marketer submits an allocation; finance approves it and downloads the XLSX,
whose numbers match what was approved."""

from __future__ import annotations

import re
from decimal import Decimal

import openpyxl
import pytest
from playwright.sync_api import Page, expect

from core.extensions import db
from tests.budgets.factories import BudgetFactory, CampaignFactory
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def sign_in(page: Page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_marketer_submits_finance_approves_and_downloads_xlsx(budgets_page, users, tmp_path):
    page = budgets_page
    budget = BudgetFactory(owner=users["finance"], name="Q budget EMEA", total_minor=10_000_000)
    CampaignFactory(
        owner=users["marketer"],
        name="Aurora Trail Launch",
        start_date=budget.start_date,
        end_date=budget.end_date,
    )
    db.session.commit()

    # The marketer asks for money for their campaign.
    sign_in(page, users["marketer"].email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Budgets").click()
    page.get_by_role("link", name="Q budget EMEA").click()
    page.get_by_role("link", name="Request allocation").click()
    page.get_by_label("Campaign").select_option(label="Aurora Trail Launch (€10,000.00)")
    page.get_by_label("Channel").select_option(label="Meta Ads")
    page.get_by_label("Amount").fill("2,500.50")
    page.get_by_label("Why this money").fill("Launch burst on Meta")
    page.get_by_role("button", name="Submit for approval").click()
    expect(page.get_by_role("status")).to_contain_text("submitted for approval")
    row = page.locator("#budget-lines tbody tr", has_text="Aurora Trail Launch")
    expect(row).to_contain_text("€2,500.50")
    expect(row.locator(".lstatus")).to_have_text("submitted")
    page.get_by_role("button", name="Sign out").click()

    # Finance sees it waiting, approves it with a comment.
    sign_in(page, users["finance"].email)
    expect(page.get_by_role("navigation", name="Main").locator(".badge")).to_have_text("1")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Finance").click()
    expect(page.locator("[data-tile=pending]")).to_have_text("1")
    page.get_by_role("link", name=re.compile("€2,500.50 for Aurora Trail Launch")).click()
    row = page.locator("#budget-lines tbody tr", has_text="Aurora Trail Launch")
    row.get_by_role("textbox").fill("Fits the Q plan")
    row.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("status")).to_have_text("Allocation approved.")
    row = page.locator("#budget-lines tbody tr", has_text="Aurora Trail Launch")
    expect(row.locator(".lstatus")).to_have_text("approved")
    expect(page.locator("[data-kpi=approved]")).to_have_text("€2,500.50")

    # ...and downloads budget vs actual as XLSX.
    with page.expect_download() as download:
        page.get_by_role("link", name="Download XLSX").click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    assert path.suffix == ".xlsx"
    sheet = openpyxl.load_workbook(path)["Budget vs actual"]
    assert sheet.freeze_panes == "A2"
    header = [c.value for c in sheet[1]]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    body = [r for r in rows if r[header.index("campaign")] == "Aurora Trail Launch"]
    assert len(body) == 3  # one row per month of the quarter
    planned = header.index("planned")
    assert sum(Decimal(str(r[planned])) for r in body) == Decimal("2500.50")
    assert rows[-1][header.index("budget")] == "TOTAL EUR"
    assert Decimal(str(rows[-1][planned])) == Decimal("2500.50")
