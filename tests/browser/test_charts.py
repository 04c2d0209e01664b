"""Charts render from the locally served Plotly under the strict CSP, and nothing on them
offers to upload the company's numbers to Plotly's cloud."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

from ads import services
from core.extensions import db
from tests import factories
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def _campaign_with_spend(owner) -> int:
    start = date.today() - timedelta(days=6)
    campaign = factories.CampaignFactory(
        owner=owner, currency="EUR", start_date=start, end_date=start + timedelta(days=20)
    )
    db.session.flush()
    account = services.connect_meta_account("act_1001", "EAAB-token-0123456789", currency="EUR")
    pc = services.upsert_platform_campaign(account, "1", "Spring")
    services.map_manually(pc, campaign.id)
    db.session.flush()
    rows = [
        services.FactRow(
            platform_campaign_id=pc.id,
            level="campaign",
            object_id=pc.external_id,
            day=start + timedelta(days=d),
            attribution_setting="",
            currency="EUR",
            spend_minor=10_000 + 100 * d,
            impressions=20_000,
            clicks=300,
            purchases=5,
            conversions=5,
            conversion_value_minor=40_000,
        )
        for d in range(5)
    ]
    services.upsert_facts(account, rows, None)
    db.session.commit()
    return campaign.id


def test_performance_charts_render_without_a_cloud_share_button(page: Page, sign_in, users):
    campaign_id = _campaign_with_spend(users["marketer"])
    sign_in(users["viewer"].email, PASSWORD)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    page.goto(f"/performance/campaigns/{campaign_id}")

    charts = page.locator(".chart[data-figure]")
    expect(charts).to_have_count(2)  # daily spend and conversions, ROAS by channel
    for i in range(2):
        expect(charts.nth(i).locator("svg.main-svg").first).to_be_visible()
        expect(charts.nth(i).locator(".bars path, .scatterlayer path").first).to_be_attached()
    charts.first.hover()
    expect(page.get_by_role("button", name="Download plot as a PNG").first).to_be_attached()
    expect(page.locator('[data-title^="Share chart"]')).to_have_count(0)
    expect(page.get_by_text("Plotly Cloud")).to_have_count(0)


def test_daily_chart_ticks_each_day_once_and_whole_conversions(page: Page, sign_in, users):
    campaign_id = _campaign_with_spend(users["marketer"])
    start = date.today() - timedelta(days=6)
    until = start + timedelta(days=4)
    sign_in(users["viewer"].email, PASSWORD)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    page.goto(f"/performance/campaigns/{campaign_id}?since={start}&until={until}")

    daily = page.locator(".chart[data-figure^='daily-']")
    expect(daily.locator(".xtick text").first).to_be_attached()
    days = [start + timedelta(days=d) for d in range(5)]
    # One label per day, each date once: no "12:00" steps, no repeated dates.
    expect(daily.locator(".xtick text")).to_have_text([f"{d:%d %b}" for d in days])
    conversions = daily.locator(".y2tick text").all_text_contents()
    assert conversions and all(t.replace(",", "").isdigit() for t in conversions), conversions
    assert len(set(conversions)) == len(conversions), conversions
    spend = daily.locator(".ytick text").all_text_contents()
    assert spend and all(t.startswith("€") for t in spend), spend


def test_roi_axis_has_round_percent_ticks_of_its_own(page: Page, sign_in, users):
    from campaigns.demo import seed_campaigns
    from core.models import Role
    from influencers.demo import seed_influencers

    roles = {Role(r): u for r, u in users.items()}
    seed_campaigns(roles)
    seed_influencers(roles)
    db.session.commit()
    sign_in(users["coordinator"].email, PASSWORD)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    page.goto("/influencers/roi")
    chart = page.locator(".chart[data-figure^='roi-']").first
    expect(chart.locator(".y2tick text").first).to_be_attached()
    # Plotly 3 syncs an overlaying axis to the money grid (49.3%, −8.1%…) unless told not to.
    ticks = chart.locator(".y2tick text").all_text_contents()
    values = [float(t.rstrip("%").replace("−", "-").replace(",", "")) for t in ticks]
    assert all(v % 10 == 0 for v in values), ticks
    money = chart.locator(".ytick text").all_text_contents()
    assert money and all(t.startswith("€") for t in money), money
