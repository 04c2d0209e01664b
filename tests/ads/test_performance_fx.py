"""Spend in several currencies: one converted row of tiles (finance's FX rates, day by day),
or a clear note of what has no rate; goal progress counts converted spend."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from ads import services
from ads.models import PlatformCampaign
from analytics.services import in_currency, refresh_goals
from budgets import fx
from core.extensions import db
from tests import factories

START = date(2026, 3, 1)


def _facts(account, pc: PlatformCampaign, currency: str, spend: int, value: int, days: int = 4):
    rows = [
        services.FactRow(
            platform_campaign_id=pc.id,
            level="campaign",
            object_id=pc.external_id,
            day=START + timedelta(days=d),
            attribution_setting="",
            currency=currency,
            spend_minor=spend,
            impressions=1000,
            clicks=50,
            purchases=2,
            conversions=2,
            conversion_value_minor=value,
        )
        for d in range(days)
    ]
    services.upsert_facts(account, rows, None)


@pytest.fixture
def campaign(users):
    """A EUR campaign with spend on a EUR Meta account and a USD Google Ads account."""
    c = factories.CampaignFactory(
        owner=users["marketer"],
        currency="EUR",
        start_date=START,
        end_date=START + timedelta(days=9),
    )
    db.session.flush()
    meta = services.connect_meta_account("act_1001", "EAAB-token-0123456789", currency="EUR")
    google = services.csv_account("google_ads", "123-456-7890", "USD")
    for account, currency, spend, value in (
        (meta, "EUR", 10000, 40000),
        (google, "USD", 11000, 22000),
    ):
        pc = services.upsert_platform_campaign(account, f"{currency}-1", "Spring")
        services.map_manually(pc, c.id)
        db.session.flush()
        _facts(account, pc, currency, spend, value)
    db.session.commit()
    return c


def _rates(*days_and_rates):
    for day, rate in days_and_rates:
        fx.set_rate(None, day, "USD", "EUR", rate)
    db.session.commit()


def test_every_currency_converted_day_by_day_into_the_campaign_currency(campaign, client, login_as):
    # 1 USD = 0.90 EUR from the 1st, 0.80 EUR from the 3rd (days 3 and 4 use it).
    _rates((START, "0.90"), (START + timedelta(days=2), "0.80"))
    login_as("viewer")
    page = client.get(
        f"/performance/campaigns/{campaign.id}?since={START}&until={START + timedelta(days=3)}"
    )
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    # EUR 4 × 100.00; USD 2 × 110.00 × 0.90 + 2 × 110.00 × 0.80 = 198.00 + 176.00.
    assert 'data-scope="combined"' in html
    combined = html.split('data-scope="combined"')[1].split("</section>")[0]
    assert "€774.00" in combined  # 400.00 + 374.00
    # Revenue: 4 × 400.00 + USD 2 × 220 × 0.9 + 2 × 220 × 0.8 = 1,600.00 + 748.00.
    assert "€2,348.00" in combined
    assert "3.03×" in combined  # ROAS 2,348 / 774 = 3.0336, a ratio of the converted sums
    # The per-currency rows stay as they were.
    assert "In USD" in html and "$440.00" in html and "In EUR" in html


def test_a_missing_rate_is_shown_as_such_never_guessed(campaign, client, login_as):
    _rates((START + timedelta(days=2), "0.80"))  # nothing for the 1st and 2nd
    login_as("marketer")
    html = client.get(
        f"/performance/campaigns/{campaign.id}?since={START}&until={START + timedelta(days=3)}"
    ).get_data(as_text=True)
    assert 'data-scope="combined"' not in html
    assert 'id="fx-missing"' in html
    note = html.split('id="fx-missing"')[1].split("</p>")[0]
    assert "$220.00 of USD spend" in note and "USD→EUR" in note
    assert "1 Mar 2026" in note and "2 Mar 2026" in note


def test_in_currency_keeps_unconvertible_rows_apart():
    import pandas as pd

    facts = pd.DataFrame(
        {
            "day": [START, START, START + timedelta(days=1)],
            "currency": ["EUR", "JPY", "JPY"],
            "spend_minor": [1000, 5000, 7000],
            "revenue_minor": [0, 0, 0],
        }
    )
    same, gaps = in_currency(facts[facts["currency"] == "EUR"], "EUR")
    assert gaps == [] and same["spend_minor"].tolist() == [1000]
    converted, gaps = in_currency(facts, "EUR")  # no JPY rate at all
    assert converted["spend_minor"].tolist() == [1000]
    assert [(g.currency, g.spend_minor, g.first_day, g.last_day) for g in gaps] == [
        ("JPY", 12000, START, START + timedelta(days=1))
    ]


def test_goal_progress_counts_converted_spend_when_every_rate_exists(campaign, client, login_as):
    goal = factories.GoalFactory(
        campaign=campaign,
        metric="spend",
        direction="at_most",
        baseline=Decimal("0"),
        target=Decimal("2000"),
    )
    db.session.commit()
    refresh_goals([campaign.id], today=START + timedelta(days=3))
    # USD has no rate yet: "missing rate", never the EUR part alone (400.00) as the spend.
    assert goal.current_value is None and goal.progress_status == "missing_rate"
    _rates((START, "0.90"))
    refresh_goals([campaign.id], today=START + timedelta(days=3))
    assert goal.current_value == Decimal("796.00")  # 400.00 + 4 × 110.00 × 0.90
    assert goal.progress_status == "on_track"
    db.session.commit()
    login_as("viewer")
    html = client.get(f"/performance/campaigns/{campaign.id}").get_data(as_text=True)
    assert 'data-goal-status="on_track"' in html and 'data-current="796.00' in html
