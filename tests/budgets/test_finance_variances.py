"""The finance dashboard's largest variances: spend against nothing planned to date yet says
so, instead of a made-up "+100%" against €0.00."""

from __future__ import annotations

import re
from datetime import date, timedelta
from html import unescape

from budgets.models import AllocationPhase
from budgets.periods import months_between
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
    line = LineFactory(budget=budget, campaign=campaign, planned_minor=500_000, status="approved")
    spend(campaign, spent)
    db.session.commit()
    return line


def test_spend_before_the_flight_is_its_own_figure_never_a_percentage(users, client, login_as):
    # The flight starts in 10 days: yesterday's €900 is not spend against the plan.
    _line(users, 10, {date.today() - timedelta(1): 90_000})
    login_as("finance")
    [entry] = _variances(client)
    assert "nothing spent in the flight yet" in entry
    assert "€900.00 outside the flight" in entry
    assert "%" not in entry


def test_spend_before_any_plan_says_nothing_was_planned(users, client, login_as):
    # In the flight, but phasing puts this month's plan at nothing.
    today = date.today()
    line = _line(users, -20, {today - timedelta(1): 90_000})
    months = months_between(line.budget.start_date, line.budget.end_date)
    assert months[-1] > today  # the whole amount is phased into the last month
    for month in months:
        planned = line.planned_minor if month == months[-1] else 0
        db.session.add(AllocationPhase(line_id=line.id, month=month, planned_minor=planned))
    db.session.commit()
    login_as("finance")
    [entry] = _variances(client)
    assert "€900.00 against nothing planned to date yet" in entry
    assert "%" not in entry and "outside the flight" not in entry


def test_spend_against_a_plan_keeps_its_percentage(users, client, login_as):
    _line(users, -20, {date.today() - timedelta(1): 90_000})
    login_as("finance")
    [entry] = _variances(client)
    assert re.search(r"€900\.00 against €[\d,.]+ planned to date [+-]\d+%", entry), entry
