"""Guard rails on allocation lines and budgets, with the messages people see."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date, timedelta

import pytest

from budgets import services
from budgets.services import BudgetError
from core.extensions import db
from tests.budgets.factories import BudgetFactory, CampaignFactory, LineFactory, UserFactory


@pytest.fixture
def setup():
    marketer = UserFactory(role="marketer")
    finance = UserFactory(role="finance")
    budget = BudgetFactory(total_minor=1_000_000, owner=finance)  # 10,000.00
    campaign = CampaignFactory(owner=marketer, planned_budget_minor=600_000)  # 6,000.00
    db.session.flush()
    return marketer, finance, budget, campaign


def request_line(user, budget, campaign, amount, channel="meta_ads", role="marketer"):
    data = {"campaign_id": str(campaign.id), "channel": channel, "planned": amount, "note": ""}
    return services.create_line(user, budget, data, role)


@contextmanager
def refused(match, field=None):
    with pytest.raises(BudgetError, match=match) as info:
        yield info
    if field is not None:
        assert info.value.field == field


def test_a_valid_line_is_a_draft_in_minor_units(setup):
    marketer, _, budget, campaign = setup
    line = request_line(marketer, budget, campaign, "1,234.56")
    assert (line.planned_minor, line.currency, line.status) == (123_456, "EUR", "draft")


def test_lines_never_exceed_the_budget_total(setup):
    marketer, _, budget, _ = setup
    big = CampaignFactory(owner=marketer, planned_budget_minor=5_000_000)
    request_line(marketer, budget, big, "9000")
    with refused(r"above the budget total €10,000.00 \(€1,000.00 left\)", "planned"):
        request_line(marketer, budget, big, "1000.01", channel="influencers")
    request_line(marketer, budget, big, "1000.00", channel="influencers")  # exactly the total


def test_a_campaigns_lines_never_exceed_its_planned_budget(setup):
    marketer, _, budget, campaign = setup
    request_line(marketer, budget, campaign, "5000")
    with refused(r"above its planned budget €6,000.00 \(€1,000.00 left\)", "planned"):
        request_line(marketer, budget, campaign, "1000.01", channel="influencers")


def test_campaign_limit_counts_lines_in_other_budgets(setup):
    marketer, finance, budget, campaign = setup
    other = BudgetFactory(
        owner=finance,
        period="2027-01",
        start_date=date.today() + timedelta(days=200),
        end_date=date.today() + timedelta(days=230),
    )
    campaign.end_date = other.end_date
    LineFactory(
        budget=other,
        campaign=campaign,
        channel="meta_ads",
        planned_minor=500_000,
        status="approved",
    )
    with refused("above its planned budget", "planned"):
        request_line(marketer, budget, campaign, "1000.01", channel="influencers")


BAD_AMOUNTS = [
    ("-5", "cannot be negative"),
    ("12.345", "EUR has 2 decimal places"),
    ("abc", "not a number"),
    ("", "Enter an amount"),
    ("   ", "Enter an amount"),
    ("1,5", "use . for decimals"),
]


def test_bad_amounts_are_refused(setup):
    marketer, _, budget, campaign = setup
    for amount, message in BAD_AMOUNTS:
        with refused(message, "planned"):
            request_line(marketer, budget, campaign, amount)


def test_currency_mismatch_is_refused(setup):
    marketer, _, budget, _ = setup
    dollars = CampaignFactory(owner=marketer, currency="USD")
    with refused(r"plans in USD; this budget is in EUR", "campaign_id"):
        request_line(marketer, budget, dollars, "100")


def test_rejected_lines_hold_nothing(setup):
    marketer, _, budget, campaign = setup
    LineFactory(
        budget=budget,
        campaign=campaign,
        planned_minor=600_000,
        status="rejected",
        channel="influencers",
    )
    request_line(marketer, budget, campaign, "6000")


def test_one_line_per_campaign_and_channel(setup):
    marketer, _, budget, campaign = setup
    request_line(marketer, budget, campaign, "10")
    with refused("already has a Meta Ads line", "channel"):
        request_line(marketer, budget, campaign, "10")


def test_overlapping_budgets_cannot_both_hold_a_campaign_channel(setup):
    marketer, finance, budget, campaign = setup
    other = BudgetFactory(owner=finance, name="Overlap")
    LineFactory(budget=other, campaign=campaign, planned_minor=1, status="approved")
    with refused("overlaps this period: spend would count twice", "channel"):
        request_line(marketer, budget, campaign, "10")


def test_channel_must_be_one_the_campaign_runs(setup):
    marketer, _, budget, campaign = setup
    with refused("does not run on TikTok Ads", "channel"):
        request_line(marketer, budget, campaign, "10", channel="tiktok_ads")
    with refused("Choose a channel", "channel"):
        request_line(marketer, budget, campaign, "10", channel="radio")


def test_campaign_outside_the_period_is_refused(setup):
    marketer, _, budget, _ = setup
    late = CampaignFactory(
        owner=marketer,
        start_date=budget.end_date + timedelta(days=1),
        end_date=budget.end_date + timedelta(days=30),
    )
    with refused("outside this budget's period", "campaign_id"):
        request_line(marketer, budget, late, "10")


def test_marketers_request_only_for_their_campaigns(setup):
    _, _, budget, campaign = setup
    other = UserFactory(role="marketer")
    with refused("campaigns you own", "campaign_id"):
        request_line(other, budget, campaign, "10")


def test_closed_budget_refuses_new_lines(setup):
    marketer, _, budget, campaign = setup
    budget.status = "closed"
    with refused("closed"):
        request_line(marketer, budget, campaign, "10")


def test_jpy_and_bhd_precision(setup):
    marketer, finance, _, _ = setup
    yen = BudgetFactory(currency="JPY", total_minor=1_000_000, owner=finance)
    campaign = CampaignFactory(owner=marketer, currency="JPY", planned_budget_minor=1_000_000)
    assert request_line(marketer, yen, campaign, "12345").planned_minor == 12345
    with refused("JPY has 0 decimal places"):
        request_line(marketer, yen, campaign, "1.5", channel="influencers")
    dinar = BudgetFactory(currency="BHD", total_minor=1_000_000, owner=finance, name="BHD")
    bhd = CampaignFactory(owner=marketer, currency="BHD", planned_budget_minor=1_000_000)
    assert request_line(marketer, dinar, bhd, "1.234").planned_minor == 1234


def test_budget_total_cannot_drop_below_its_lines(setup):
    marketer, _, budget, campaign = setup
    request_line(marketer, budget, campaign, "5000")
    with refused("cannot go below", "total"):
        services.apply_budget(budget, {"total": "4999.99"}, "finance")
    services.apply_budget(budget, {"total": "5000"}, "finance")
    assert budget.total_minor == 500_000


def test_budget_period_and_currency_fixed_once_lines_exist(setup):
    marketer, _, budget, campaign = setup
    request_line(marketer, budget, campaign, "1")
    with refused("currency is fixed", "currency"):
        services.apply_budget(budget, {"currency": "USD"}, "finance")
    with refused("period is fixed", "period"):
        services.apply_budget(budget, {"period": "2030-01"}, "finance")


def test_periods():
    from budgets.periods import PeriodError, parse_period

    good = {
        "2026-Q4": (date(2026, 10, 1), date(2026, 12, 31)),
        "2026-02": (date(2026, 2, 1), date(2026, 2, 28)),
        "2026-10-15..2026-11-20": (date(2026, 10, 15), date(2026, 11, 20)),
    }
    for text, (start, end) in good.items():
        period = parse_period(text)
        assert (period.start, period.end) == (start, end), text
    for text in ["2026-13", "Q4", "2026-12-01..2026-11-01", "1999-01", ""]:
        with pytest.raises(PeriodError):
            parse_period(text)
