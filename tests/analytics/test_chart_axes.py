"""Chart axes a person can read: the performance page's daily chart ticks each day of a short
period once (never at 12-hour steps), weeks or months over long ones, whole numbers on the
conversions axis and the campaign currency on the spend axis. Also the budget pacing chart."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

import pytest

from ads import services
from analytics import axes
from core.extensions import db
from tests import factories

START = date(2026, 3, 2)  # a Monday
DAY_MS = 86_400_000


def _campaign(owner, currency: str, days: int, conversions: list[int]):
    campaign = factories.CampaignFactory(
        owner=owner, currency=currency, start_date=START, end_date=START + timedelta(400)
    )
    db.session.flush()
    account = services.connect_meta_account("act_1001", "EAAB-token-0123456789", currency=currency)
    pc = services.upsert_platform_campaign(account, "1", "Spring")
    services.map_manually(pc, campaign.id)
    db.session.flush()
    rows = [
        services.FactRow(
            platform_campaign_id=pc.id,
            level="campaign",
            object_id=pc.external_id,
            day=START + timedelta(days=d),
            attribution_setting="",
            currency=currency,
            spend_minor=12_345 + 100 * d,
            impressions=10_000,
            clicks=100,
            purchases=conversions[d % len(conversions)],
            conversions=conversions[d % len(conversions)],
            conversion_value_minor=40_000,
        )
        for d in range(days)
    ]
    services.upsert_facts(account, rows, None)
    db.session.commit()
    return campaign


def _daily_layout(client, campaign, until: date) -> dict:
    response = client.get(f"/performance/campaigns/{campaign.id}?since={START}&until={until}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    found = re.search(
        rf'<script type="application/json" id="figure-daily-{campaign.currency}">(.*?)</script>',
        html,
        re.S,
    )
    return json.loads(found.group(1))["layout"]


def test_a_short_period_has_one_tick_per_day_and_whole_conversions(users, client, login_as):
    campaign = _campaign(users["marketer"], "EUR", 5, [1, 2, 0, 1, 2])
    login_as("viewer")
    layout = _daily_layout(client, campaign, START + timedelta(4))
    x = layout["xaxis"]
    assert (x["type"], x["tickmode"], x["dtick"], x["tick0"]) == (
        "date",
        "linear",
        DAY_MS,
        "2026-03-02",
    )
    assert x["tickformat"] == "%d %b"
    assert x["range"] == ["2026-03-01 12:00", "2026-03-06 12:00"]  # five whole days
    conversions = layout["yaxis2"]
    assert conversions["title"]["text"] == "Conversions"
    assert (conversions["tickformat"], conversions["dtick"]) == (",d", 1)  # never 0.5
    assert conversions["tickmode"] == "linear"  # not synced to the spend axis's grid
    spend = layout["yaxis"]
    assert (spend["tickprefix"], spend["hoverformat"]) == ("€", ",.2f")


def test_one_day_is_one_tick(users, client, login_as):
    campaign = _campaign(users["marketer"], "EUR", 1, [3])
    login_as("viewer")
    x = _daily_layout(client, campaign, START)["xaxis"]
    assert (x["dtick"], x["range"]) == (DAY_MS, ["2026-03-01 12:00", "2026-03-02 12:00"])


def test_long_periods_tick_weeks_then_months(users, client, login_as):
    campaign = _campaign(users["marketer"], "EUR", 3, [40, 25, 31])
    login_as("viewer")
    weeks = _daily_layout(client, campaign, START + timedelta(59))
    assert (weeks["xaxis"]["dtick"], weeks["xaxis"]["tick0"]) == (7 * DAY_MS, "2026-03-02")
    months = _daily_layout(client, campaign, START + timedelta(179))
    assert (months["xaxis"]["dtick"], months["xaxis"]["tickformat"]) == ("M1", "%b %Y")
    assert months["xaxis"]["tick0"] == "2026-03-01"
    assert months["yaxis2"]["dtick"] == 10  # 40 conversions: 0, 10, 20, 30, 40


def test_a_currency_without_decimals_keeps_whole_amounts(users, client, login_as):
    campaign = _campaign(users["marketer"], "JPY", 4, [1])
    login_as("viewer")
    spend = _daily_layout(client, campaign, START + timedelta(3))["yaxis"]
    assert (spend["tickprefix"], spend["tickformat"], spend["hoverformat"]) == (
        "JP¥",
        ",.0f",
        ",.0f",
    )
    assert spend["dtick"] >= 1


# --- the pure axis helpers ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("top", "smallest", "step"),
    [(0, 1, 1), (2, 1, 1), (7, 1, 2), (10, 1, 2), (40, 1, 10), (12_345, 1, 5000), (0.3, 0.01, 0.1)],
)
def test_nice_steps(top, smallest, step):
    assert axes.nice_step(top, smallest) == step


def test_money_axis_ticks_small_amounts_in_cents_and_spaces_letter_codes():
    small = axes.money_axis("EUR", 0.4)
    assert (small["dtick"], small["tickformat"]) == (0.1, ",.2f")
    assert axes.money_axis("CHF", 500)["tickprefix"] == "CHF\u00a0"
    assert axes.money_axis("BHD", 1)["hoverformat"] == ",.3f"


def test_date_axis_thresholds():
    assert axes.date_axis(START, START + timedelta(13))["dtick"] == DAY_MS
    assert axes.date_axis(START, START + timedelta(14))["dtick"] == 7 * DAY_MS
    assert axes.date_axis(START, START + timedelta(400))["dtick"] == "M3"
    assert axes.date_axis(START, START + timedelta(1000))["tickformat"] == "%Y"


def test_the_pacing_chart_uses_the_same_axes(users, client, login_as):
    from tests.budgets.factories import BudgetFactory, LineFactory

    budget = BudgetFactory(owner=users["finance"])
    LineFactory(budget=budget, status="approved", campaign__owner=users["marketer"])
    db.session.commit()
    login_as("finance")
    html = client.get(f"/budgets/{budget.id}").get_data(as_text=True)
    found = re.search(r'id="figure-pacing">(.*?)</script>', html, re.S)
    layout = json.loads(found.group(1))["layout"]
    assert layout["xaxis"]["tickmode"] == "linear"
    assert layout["xaxis"]["dtick"] in (7 * DAY_MS, "M1")  # a quarter: weeks or months
    assert layout["yaxis"]["tickprefix"] == "€"


def test_the_influencer_roi_chart_shows_money_and_percent():
    from influencers.reporting import comparison_chart

    row = {"currency": "GBP", "partnership": None, "cost_minor": 50_000, "revenue_minor": 80_000}
    rows = [row | {"roi": 0.6}]
    layout = json.loads(comparison_chart(rows))["layout"]
    assert (layout["yaxis"]["tickprefix"], layout["yaxis"]["hoverformat"]) == ("£", ",.2f")
    assert (layout["yaxis2"]["ticksuffix"], layout["yaxis2"]["tickmode"]) == ("%", "auto")
