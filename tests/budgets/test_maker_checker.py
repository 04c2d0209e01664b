"""Maker-checker: a line is decided by none of its makers (requester, last editor of its money,
submitter), a reallocation by anyone but its requester. Zero-amount requests are refused, and
a refused form shows every problem beside its field."""

from __future__ import annotations

from html import unescape

import pytest

from budgets import phasing, services, workflow
from budgets.models import AllocationLine
from budgets.services import BudgetError
from core.extensions import db
from tests.budgets.factories import BudgetFactory, CampaignFactory, LineFactory, UserFactory
from tests.conftest import login
from tests.page_forms import field_errors, form_fields


@pytest.fixture
def fiona(users):
    return users["finance"]


@pytest.fixture
def frank():
    made = UserFactory(role="finance", name="Frank Finance")
    db.session.commit()
    return made


@pytest.fixture
def budget(fiona):
    made = BudgetFactory(owner=fiona, name="Q budget", total_minor=5_000_000)
    db.session.commit()
    return made


@pytest.fixture
def draft(users, budget):
    """A marketer's €1,000.00 draft line."""
    campaign = CampaignFactory(owner=users["marketer"], name="Boots")
    made = LineFactory(
        budget=budget, campaign=campaign, requested_by=users["marketer"], planned_minor=100_000
    )
    made.amounts_edited_by_id = users["marketer"].id
    db.session.commit()
    return made


def fresh(line: AllocationLine) -> AllocationLine:
    return db.session.get(AllocationLine, line.id, populate_existing=True)


def flashed(response) -> str:
    return unescape(response.get_data(as_text=True))


def test_finance_who_edited_and_submitted_a_line_cannot_approve_it(
    app, client, login_as, draft, frank
):
    """The bypass: finance raises a marketer's draft, submits it, and approves it itself."""
    login_as("finance")
    url = f"/budgets/lines/{draft.id}/edit"
    fields = form_fields(client.get(url).get_data(as_text=True))
    response = client.post(url, data=fields | {"planned": "4000", "action": "submit"})
    assert response.status_code == 302
    line = fresh(draft)
    assert (line.status, line.planned_minor) == ("submitted", 400_000)
    page = client.post(f"/budgets/lines/{draft.id}/approve", follow_redirects=True)
    assert "You last changed this line's amount: someone else in finance must decide it." in (
        flashed(page)
    )
    assert fresh(draft).status == "submitted"
    other = app.test_client()
    login(other, frank)
    other.post(f"/budgets/lines/{draft.id}/approve")
    assert (fresh(draft).status, fresh(draft).decided_by_id) == ("approved", frank.id)


def test_finance_who_only_submitted_a_line_cannot_decide_it(draft, fiona, frank):
    workflow.submit_line(fiona, draft)
    for decide in (
        lambda: workflow.approve_line(fiona, draft),
        lambda: workflow.reject_line(fiona, draft, "no"),
    ):
        with pytest.raises(BudgetError, match="^You submitted this line: someone else"):
            decide()
    workflow.reject_line(frank, draft, "Split it by month")
    assert draft.status == "rejected"


def test_finance_who_phased_a_draft_cannot_approve_it(draft, users, fiona, frank):
    months = phasing.line_months(draft)
    phasing.set_phasing(draft, "weights", dict.fromkeys(months, "1"), "", fiona)
    workflow.submit_line(users["marketer"], draft)
    with pytest.raises(BudgetError, match="^You last changed this line's amount"):
        workflow.approve_line(fiona, draft)
    workflow.approve_line(frank, draft)
    assert draft.status == "approved"


def test_the_last_edit_of_the_money_counts_not_a_note(draft, users, fiona):
    services.update_line(fiona, draft, {"planned": "1500"}, "finance")
    assert draft.amounts_edited_by_id == fiona.id
    services.update_line(users["marketer"], draft, {"planned": "1400"}, "marketer")
    services.update_line(fiona, draft, {"note": "Tidied the wording"}, "finance")
    assert draft.amounts_edited_by_id == users["marketer"].id
    workflow.submit_line(users["marketer"], draft)
    workflow.approve_line(fiona, draft)  # fiona changed words, not money
    assert (draft.status, draft.planned_minor) == ("approved", 140_000)


def test_the_requester_in_finance_cannot_decide_their_own_request(budget, users, fiona, frank):
    campaign = CampaignFactory(owner=users["marketer"])
    data = {"campaign_id": str(campaign.id), "channel": "meta_ads", "planned": "100"}
    own = services.create_line(fiona, budget, data, "finance")
    workflow.submit_line(fiona, own)
    with pytest.raises(BudgetError, match="^You requested this line: someone else"):
        workflow.approve_line(fiona, own)
    workflow.approve_line(frank, own)


def test_a_reallocations_requester_cannot_decide_it(budget, users, fiona, frank):
    campaign = CampaignFactory(owner=users["marketer"], channels_csv=",meta_ads,influencers,")
    lines = [
        LineFactory(
            budget=budget, campaign=campaign, channel=c, planned_minor=100_000, status="approved"
        )
        for c in ("meta_ads", "influencers")
    ]
    move = workflow.request_reallocation(fiona, budget, *lines, "10", "why")
    for decide in (
        lambda: workflow.approve_reallocation(fiona, move),
        lambda: workflow.reject_reallocation(fiona, move, "no"),
    ):
        with pytest.raises(BudgetError, match="^You made this request: someone else"):
            decide()
    workflow.approve_reallocation(frank, move)
    assert [line.planned_minor for line in lines] == [99_000, 101_000]


# --- zero amounts and every error -----------------------------------------------------------


def test_a_zero_request_is_refused_and_does_not_block_the_real_one(client, login_as, users, budget):
    login_as("marketer")
    campaign = CampaignFactory(owner=users["marketer"], name="Boots")
    db.session.commit()
    url = f"/budgets/{budget.id}/lines/new"
    post = {"campaign_id": str(campaign.id), "channel": "meta_ads", "action": "save"}
    refused = client.post(url, data=post | {"planned": "0.00"})
    assert refused.status_code == 400
    assert field_errors(refused.get_data(as_text=True), "planned") == [
        "Enter an amount above €0.00."
    ]
    assert client.post(url, data=post | {"planned": "2500"}).status_code == 302


def test_editing_a_line_down_to_zero_is_refused(draft, users):
    with pytest.raises(BudgetError, match=r"^Enter an amount above €0\.00\.$"):
        services.update_line(users["marketer"], draft, {"planned": "0"}, "marketer")
    assert fresh(draft).planned_minor == 100_000


def test_a_refused_line_form_shows_every_problem_beside_its_field(client, login_as, users, budget):
    login_as("marketer")
    response = client.post(
        f"/budgets/{budget.id}/lines/new",
        data={
            "campaign_id": "999999",
            "channel": "radio",
            "planned": "-5",
            "note": "x" * 2001,
            "action": "save",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert field_errors(page, "campaign_id") == ["Choose a campaign from the list."]
    assert field_errors(page, "planned") == ["Amounts cannot be negative."]
    # The form's own validators (channel choice, note length) were already all shown.
    assert field_errors(page, "channel") and field_errors(page, "note")


def test_a_request_over_both_totals_names_both(users, budget):
    campaign = CampaignFactory(owner=users["marketer"], planned_budget_minor=100_000)
    budget.total_minor = 100_000
    data = {"campaign_id": str(campaign.id), "channel": "meta_ads", "planned": "1000.01"}
    with pytest.raises(BudgetError) as refused:
        services.create_line(users["marketer"], budget, data, "marketer")
    messages = [m for _, m in refused.value.problems]
    assert len(messages) == 2
    assert "above the budget total €1,000.00" in messages[0]
    assert "above its planned budget €1,000.00" in messages[1]


def test_a_refused_budget_form_shows_every_problem(client, login_as):
    login_as("finance")
    response = client.post(
        "/budgets/new",
        data={
            "name": "Q",
            "period": "2026-Q5",
            "currency": "EUR",
            "total": "abc",
            "under_pct": "0",
            "over_pct": "99",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    for name in ("period", "total", "under_pct", "over_pct"):
        assert field_errors(page, name), f"no message beside {name}"


def test_a_refused_reallocation_form_shows_the_amount_and_the_reason(
    client, login_as, users, budget
):
    login_as("marketer")
    response = client.post(
        f"/budgets/{budget.id}/reallocations/new",
        data={"from_line_id": "", "to_line_id": "", "amount": "12.345", "reason": ""},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert field_errors(page, "amount") == ["EUR has 2 decimal places."]
    assert field_errors(page, "reason")  # the form's own "This field is required."
