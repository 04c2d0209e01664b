"""Campaign edits against the money budget lines hold for the campaign: the currency is fixed
while they hold any, the planned budget stays at or above what they hold, and the flight keeps
overlapping the period of every budget holding money for it. Refused beside the field, on the
real edit page; and serialised with line requests (tests/race.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from budgets import services as budget_services
from budgets.models import AllocationLine, Budget
from campaigns import services
from campaigns.models import Campaign
from campaigns.services import CampaignError
from core.extensions import db
from core.models import User
from core.money import Money
from tests.budgets.factories import BudgetFactory, LineFactory
from tests.factories import CampaignFactory
from tests.page_forms import field_errors, form_fields
from tests.race import one_after_other, postgres_only, race, winner_and_loser

__all__ = ["postgres_only"]  # the fixture, used by name


@pytest.fixture
def held(users):
    """A €10,000.00 campaign; a budget holds €6,000.00 approved and €1,000.00 drafted for it."""
    campaign = CampaignFactory(owner=users["marketer"], name="Autumn Run")
    budget = BudgetFactory(owner=users["finance"], name="Q budget")
    for channel, minor, status in (
        ("meta_ads", 600_000, "approved"),
        ("influencers", 100_000, "draft"),
    ):
        LineFactory(
            budget=budget,
            campaign=campaign,
            channel=channel,
            planned_minor=minor,
            status=status,
            requested_by=users["marketer"],
        )
    db.session.commit()
    return campaign, budget


def edit(client, campaign: Campaign, **changes: str):
    url = f"/campaigns/{campaign.id}/edit"
    fields = form_fields(client.get(url).get_data(as_text=True), action=None)
    return client.post(url, data=fields | changes)


def fresh(campaign: Campaign) -> Campaign:
    return db.session.get(Campaign, campaign.id, populate_existing=True)


def test_every_budget_guard_rail_is_shown_beside_its_field(held, client, login_as):
    campaign, budget = held
    login_as("marketer")
    late = budget.end_date + timedelta(days=1)
    response = edit(
        client,
        campaign,
        currency="USD",
        start_date=late.isoformat(),
        end_date=(late + timedelta(days=30)).isoformat(),
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert field_errors(page, "currency") == [
        "Budget lines in “Q budget” hold money in EUR for this campaign: its currency is fixed "
        "while they do. Withdraw or reject them first."
    ]
    assert field_errors(page, "start_date") == [
        f"“Q budget” ({budget.start_date:%d %b %Y} – {budget.end_date:%d %b %Y}) holds "
        f"€7,000.00 for this campaign: the flight must start on or before "
        f"{budget.end_date:%d %b %Y} while it does."
    ]
    response = edit(client, campaign, planned_budget="6999.99")
    assert response.status_code == 400
    assert field_errors(response.get_data(as_text=True), "planned_budget") == [
        "Budget lines hold €7,000.00 for this campaign (€6,000.00 of it approved): the planned "
        "budget cannot go below that. Withdraw lines or reallocate approved money first."
    ]
    campaign = fresh(campaign)
    assert (campaign.currency, campaign.planned_budget_minor) == ("EUR", 1_000_000)
    assert campaign.start_date < budget.end_date


def test_a_flight_ending_before_the_budget_is_refused_beside_its_end(held, client, login_as):
    campaign, budget = held
    login_as("marketer")
    early = budget.start_date - timedelta(days=1)
    response = edit(
        client,
        campaign,
        start_date=(early - timedelta(days=20)).isoformat(),
        end_date=early.isoformat(),
    )
    assert response.status_code == 400
    (message,) = field_errors(response.get_data(as_text=True), "end_date")
    assert message.endswith(
        f"the flight must end on or after {budget.start_date:%d %b %Y} while it does."
    )


def test_edits_within_what_lines_hold_are_saved(held, client, login_as):
    campaign, budget = held
    login_as("marketer")
    response = edit(client, campaign, planned_budget="7000", end_date=budget.end_date.isoformat())
    assert response.status_code == 302
    assert fresh(campaign).planned_budget_minor == 700_000


def test_lines_that_hold_nothing_fix_nothing(held, users):
    campaign, _ = held
    for line in db.session.query(AllocationLine).filter_by(campaign_id=campaign.id):
        line.status = "withdrawn" if line.status == "draft" else "rejected"
    db.session.commit()
    services.apply_campaign(
        campaign, {"currency": "USD", "planned_budget": Money.of("1", "USD")}, "marketer"
    )
    assert (campaign.currency, campaign.planned_budget_minor) == ("USD", 100)


def test_a_new_campaign_has_no_lines_to_guard(users):
    campaign = Campaign(owner_id=users["marketer"].id, status="draft", channels_csv="")
    services.apply_campaign(
        campaign,
        {"name": "New", "currency": "USD", "planned_budget": Money.of("5", "USD")},
        "marketer",
    )
    assert campaign.currency == "USD"


# --- a campaign edit and a line request at the same instant ----------------------------------


def lower_budget(user_id: int, campaign_id: int, amount: str):
    def prepare():
        user = db.session.get(User, user_id)
        campaign = db.session.get(Campaign, campaign_id)
        planned = Money.of(amount, campaign.currency)
        return lambda: services.apply_campaign(campaign, {"planned_budget": planned}, user.role)

    return prepare


def request_line(user_id: int, budget_id: int, campaign_id: int, amount: str):
    def prepare():
        user = db.session.get(User, user_id)
        budget = db.session.get(Budget, budget_id)
        data = {"campaign_id": str(campaign_id), "channel": "influencers", "planned": amount}
        return lambda: budget_services.create_line(user, budget, data, user.role)

    return prepare


@pytest.fixture
def approved_only(users):
    campaign = CampaignFactory(owner=users["marketer"], name="Autumn Run")
    budget = BudgetFactory(owner=users["finance"], name="Q budget")
    LineFactory(
        budget=budget,
        campaign=campaign,
        planned_minor=600_000,
        status="approved",
        requested_by=users["marketer"],
    )
    db.session.commit()
    return campaign, budget


def test_lowering_the_budget_after_a_request_it_did_not_see_is_refused(app, users, approved_only):
    campaign, budget = approved_only
    marketer = users["marketer"].id
    first, second = one_after_other(
        app,
        request_line(marketer, budget.id, campaign.id, "2000"),
        lower_budget(marketer, campaign.id, "7000"),
    )
    assert first.ok and not second.ok
    assert second.message.startswith("Budget lines hold €8,000.00 for this campaign")
    assert fresh(campaign).planned_budget_minor == 1_000_000


def test_a_request_after_a_budget_cut_it_did_not_see_is_refused(app, users, approved_only):
    campaign, budget = approved_only
    marketer = users["marketer"].id
    first, second = one_after_other(
        app,
        lower_budget(marketer, campaign.id, "7000"),
        request_line(marketer, budget.id, campaign.id, "2000"),
    )
    assert first.ok and not second.ok
    assert "above its planned budget €7,000.00 (€1,000.00 left)" in second.message


def test_a_budget_cut_and_a_request_at_once(app, postgres_only, users, approved_only):
    campaign, budget = approved_only
    marketer = users["marketer"].id
    won, lost = winner_and_loser(
        race(
            app,
            lower_budget(marketer, campaign.id, "7000"),
            request_line(marketer, budget.id, campaign.id, "2000"),
        )
    )
    campaign = fresh(campaign)
    held = budget_services.campaign_holding_total(campaign.id)
    assert held <= campaign.planned_budget_minor
    assert (campaign.planned_budget_minor, held) == (
        (700_000, 600_000) if won == 0 else (1_000_000, 800_000)
    )


def test_a_refused_campaign_edit_lists_every_problem(users):
    campaign = CampaignFactory(owner=users["marketer"])
    db.session.commit()
    data = {
        "start_date": campaign.end_date,
        "end_date": campaign.start_date,
        "channels": [],
        "objective": "fame",
    }
    with pytest.raises(CampaignError) as refused:
        services.apply_campaign(campaign, data, "marketer")
    assert {field for field, _ in refused.value.problems} == {"end_date", "objective", "channels"}
