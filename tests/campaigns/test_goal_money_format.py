"""Money goals (spend, revenue, CPA, CPC, CPM) show in the campaign currency like every other
amount: its symbol and its own number of decimals (JP¥1,234, not "1,234.00 JPY")."""

from __future__ import annotations

from decimal import Decimal

import pytest

from campaigns.metrics import METRICS
from core.extensions import db
from tests import factories


@pytest.mark.parametrize(
    ("metric", "value", "currency", "shown"),
    [
        ("cpa", "27.99", "EUR", "€27.99"),
        ("revenue", "420000", "USD", "US$420,000.00"),
        ("spend", "1234", "JPY", "JP¥1,234"),
        ("cpc", "0.125", "BHD", "BHD0.125"),
        ("roas", "3.5", "EUR", "3.50×"),
        ("clicks", "12000", "EUR", "12,000"),
    ],
)
def test_goal_values_are_formatted_in_the_campaign_currency(metric, value, currency, shown):
    assert METRICS[metric].format(Decimal(value), currency).replace("\xa0", " ") == shown


def test_the_campaign_page_shows_a_yen_goal_without_decimals(users, client, login_as):
    campaign = factories.CampaignFactory(owner=users["marketer"], currency="JPY")
    factories.GoalFactory(
        campaign=campaign,
        metric="cpa",
        direction="at_most",
        baseline=Decimal("1500"),
        target=Decimal("1200"),
    )
    db.session.commit()
    login_as("viewer")
    html = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    goals = html.split('class="table goals"')[1].split("</table>")[0]
    assert "JP¥1,500" in goals and "JP¥1,200" in goals
    assert " JPY" not in goals and "1,200.00" not in goals
