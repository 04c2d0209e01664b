"""The finance dashboard's largest variances: spend against nothing planned to date yet says
so, instead of a made-up "+100%" against €0.00."""

from __future__ import annotations

import re
from datetime import date, timedelta
from html import unescape

from core.extensions import db
from tests.budgets.factories import BudgetFactory, CampaignFactory, LineFactory, spend


def _variances(client) -> list[str]:
    html = unescape(client.get("/budgets/finance/").get_data(as_text=True))
    found = re.search(r'<ol class="variances" id="variances">(.*?)</ol>', html, re.S)
    assert found, "no variances listed"
    return [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", li)).strip()
        for li in re.findall(r"<li>(.*?)</li>", found.group(1), re.S)
    ]


def _line(users, starts_in: int, spent: dict[date, int]):
    today = date.today()
    budget = BudgetFactory(
        owner=users["finance"], start_date=today - timedelta(30), end_date=today + timedelta(60)
    )
    campaign = CampaignFactory(
        owner=users["marketer"],
        name="Later",
        start_date=today + timedelta(starts_in),
        end_date=today + timedelta(50),
    )
    LineFactory(budget=budget, campaign=campaign, planned_minor=500_000, status="approved")
    spend(campaign, spent)
    db.session.commit()


def test_spend_before_any_plan_says_nothing_was_planned(users, client, login_as):
    _line(users, 10, {date.today() - timedelta(1): 90_000})
    login_as("finance")
    [entry] = _variances(client)
    assert "€900.00 against nothing planned to date yet" in entry
    assert "%" not in entry


def test_spend_against_a_plan_keeps_its_percentage(users, client, login_as):
    _line(users, -20, {date.today() - timedelta(1): 90_000})
    login_as("finance")
    [entry] = _variances(client)
    assert re.search(r"€900\.00 against €[\d,.]+ planned to date [+-]\d+%", entry), entry
