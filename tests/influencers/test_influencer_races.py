"""Two people acting on the same influencer money at the same instant (tests/race.py): paying a
milestone, contracting, editing a fee, and a budget reallocation out of the influencer
allocation while a fee is contracted against it."""

from __future__ import annotations

from datetime import date

import pytest

from budgets import workflow
from budgets.models import AllocationLine, Reallocation
from budgets.services import BudgetError
from core.extensions import db
from core.models import User
from core.money import Money
from influencers import partnerships, payments
from influencers.models import Partnership, PaymentMilestone
from influencers.services import InfluencerError
from tests.budgets.factories import BudgetFactory, LineFactory, UserFactory
from tests.matrix_influencers import make_influencer, make_partnership
from tests.race import audit_rows, one_after_other, postgres_only, race, winner_and_loser

__all__ = ["postgres_only"]  # the fixture, used by name


@pytest.fixture
def coordinators(users):
    made = [
        users["coordinator"],
        UserFactory(role="coordinator", name="Cleo Coordinator", email="cleo@example.test"),
    ]
    db.session.commit()
    return made


def fresh(model, obj_id):
    return db.session.get(model, obj_id, populate_existing=True)


# --- paying a milestone -----------------------------------------------------------------------


def pay(user_id: int, milestone_id: int, reference: str):
    def prepare():
        user = db.session.get(User, user_id)
        milestone = db.session.get(PaymentMilestone, milestone_id)
        return lambda: payments.pay(milestone, date.today(), reference, user)

    return prepare


def payable(deal) -> PaymentMilestone:
    p, _ = deal
    milestone = next(m for m in p.milestones if m.status == "payable")
    return milestone


def test_two_coordinators_pay_one_milestone_at_once(app, postgres_only, deal, coordinators):
    milestone = payable(deal)
    refs = ["TRX-1", "TRX-2"]
    won, lost = winner_and_loser(
        race(app, *(pay(c.id, milestone.id, r) for c, r in zip(coordinators, refs, strict=True)))
    )
    winner = coordinators[won]
    assert lost.message == (
        f"Already marked paid by {winner.name} on {date.today():%d %b %Y} (reference {refs[won]})."
    )
    milestone = fresh(PaymentMilestone, milestone.id)
    assert (milestone.status, milestone.reference, milestone.paid_by_id) == (
        "paid",
        refs[won],
        winner.id,
    )
    assert len(audit_rows("PaymentMilestone", milestone.id, "status", "paid")) == 1


def test_paying_a_milestone_someone_just_paid_is_refused(app, deal, coordinators):
    milestone = payable(deal)
    first, second = one_after_other(
        app,
        pay(coordinators[0].id, milestone.id, "TRX-1"),
        pay(coordinators[1].id, milestone.id, "TRX-2"),
    )
    assert first.ok and not second.ok
    assert second.message.startswith("Already marked paid by Coordinator Tester on ")
    assert fresh(PaymentMilestone, milestone.id).reference == "TRX-1"
    assert len(audit_rows("PaymentMilestone", milestone.id, "status", "paid")) == 1


def test_a_payment_refused_for_two_reasons_gives_both(deal, users):
    milestone = payable(deal)
    with pytest.raises(InfluencerError) as refused:
        payments.pay(milestone, None, " ", users["coordinator"])
    assert refused.value.problems == [
        ("paid_on", "Enter the payment date (today or earlier)."),
        ("reference", "Enter the payment reference (invoice or transfer id)."),
    ]


# --- contracting and fees -------------------------------------------------------------------


@pytest.fixture
def funded(users, campaign):
    """An approved €1,500.00 influencer allocation for the campaign, beside €3,000.00 of Meta
    money in the same budget."""
    finance = UserFactory(role="finance", name="Fiona Finance", email="fiona@example.test")
    budget = BudgetFactory(owner=finance)
    lines = {
        channel: LineFactory(
            budget=budget,
            campaign=campaign,
            channel=channel,
            planned_minor=minor,
            status="approved",
            requested_by=users["marketer"],
        )
        for channel, minor in (("influencers", 150_000), ("meta_ads", 300_000))
    }
    db.session.commit()
    return budget, lines


def negotiating(users, campaign, name: str, fee_minor: int = 100_000) -> Partnership:
    p = make_partnership(
        make_influencer(name), campaign, users["coordinator"], "negotiating", fee_minor
    )
    db.session.commit()
    return p


def contract(user_id: int, partnership_id: int):
    def prepare():
        p = db.session.get(Partnership, partnership_id)
        return lambda: partnerships.transition(p, "contracted")

    return prepare


def set_fee(user_id: int, partnership_id: int, amount: str):
    def prepare():
        user = db.session.get(User, user_id)
        p = db.session.get(Partnership, partnership_id)
        fee = Money.of(amount, p.currency)
        return lambda: partnerships.apply_terms(p, {"fee": fee}, user.role)

    return prepare


def test_a_fee_edit_after_a_contract_it_did_not_see_is_refused(
    app, users, campaign, funded, coordinators
):
    p = negotiating(users, campaign, "Anna Runs")
    first, second = one_after_other(
        app, contract(coordinators[0].id, p.id), set_fee(coordinators[1].id, p.id, "1400")
    )
    assert first.ok and not second.ok
    assert second.message.startswith("The fee is contracted and committed against the budget")
    assert (fresh(Partnership, p.id).status, fresh(Partnership, p.id).fee_minor) == (
        "contracted",
        100_000,
    )


def test_a_fee_edit_and_a_contract_at_once_stay_within_the_allocation(
    app, postgres_only, users, campaign, funded, coordinators
):
    p = negotiating(users, campaign, "Anna Runs")
    outcomes = race(
        app, contract(coordinators[0].id, p.id), set_fee(coordinators[1].id, p.id, "2000")
    )
    assert any(o.waited for o in outcomes)
    p = fresh(Partnership, p.id)
    if outcomes[0].ok:  # contracted at €1,000.00 first: the new fee is refused
        assert not outcomes[1].ok and (p.status, p.fee_minor) == ("contracted", 100_000)
    else:  # the fee went up first: €2,000.00 is over the €1,500.00 allocation
        assert "over the approved influencer allocation of €1,500.00" in outcomes[0].message
        assert (p.status, p.fee_minor) == ("negotiating", 200_000)


def test_two_contracts_at_once_cannot_overcommit_the_allocation(
    app, postgres_only, users, campaign, funded, coordinators
):
    deals = [negotiating(users, campaign, name) for name in ("Anna Runs", "Ben Bakes")]
    won, lost = winner_and_loser(
        race(app, *(contract(c.id, p.id) for c, p in zip(coordinators, deals, strict=True)))
    )
    assert "would bring influencer commitments on “Spring Launch” to €2,000.00" in lost.message
    statuses = [fresh(Partnership, p.id).status for p in deals]
    assert sorted(statuses) == ["contracted", "negotiating"]
    assert len(audit_rows("Partnership", deals[won].id, "status", "contracted")) == 1


def test_marking_contracted_twice_at_once(
    app, postgres_only, users, campaign, funded, coordinators
):
    p = negotiating(users, campaign, "Anna Runs")
    won, lost = winner_and_loser(race(app, *(contract(c.id, p.id) for c in coordinators)))
    assert lost.message.startswith("Already contracted by ")
    assert len(audit_rows("Partnership", p.id, "status", "contracted")) == 1


# --- a reallocation out of the influencer allocation ------------------------------------------


def move_out(users, funded, amount: str) -> Reallocation:
    budget, lines = funded
    request = workflow.request_reallocation(
        users["marketer"], budget, lines["influencers"], lines["meta_ads"], amount, "reach"
    )
    db.session.commit()
    return request


def approve_move(user_id: int, request_id: int):
    def prepare():
        user = db.session.get(User, user_id)
        request = db.session.get(Reallocation, request_id)
        return lambda: workflow.approve_reallocation(user, request, "")

    return prepare


def test_a_move_may_not_leave_the_allocation_below_contracted_fees(users, campaign, funded):
    negotiating(users, campaign, "Anna Runs")  # not contracted yet: nothing is committed
    contracted = make_partnership(
        make_influencer("Ben Bakes"), campaign, users["coordinator"], "contracted", 100_000
    )
    db.session.commit()
    budget, lines = funded
    with pytest.raises(BudgetError) as refused:
        workflow.request_reallocation(
            users["marketer"], budget, lines["influencers"], lines["meta_ads"], "500.01", "x"
        )
    assert refused.value.problems == [
        (
            "amount",
            "“Spring Launch” has €1,000.00 contracted with influencers: moving €500.01 would "
            "leave its influencer allocation at €999.99, below that.",
        )
    ]
    workflow.request_reallocation(
        users["marketer"], budget, lines["influencers"], lines["meta_ads"], "500", "x"
    )
    assert contracted.is_committed


def test_a_move_approved_after_a_contract_it_did_not_see_is_refused(
    app, users, campaign, funded, coordinators
):
    p = negotiating(users, campaign, "Anna Runs")
    request = move_out(users, funded, "1000")
    finance = users["finance"]
    first, second = one_after_other(
        app, contract(coordinators[0].id, p.id), approve_move(finance.id, request.id)
    )
    assert first.ok and not second.ok
    assert "has €1,000.00 contracted with influencers" in second.message
    assert fresh(AllocationLine, funded[1]["influencers"].id).planned_minor == 150_000


def test_a_contract_and_a_move_out_at_once_keep_fees_covered(
    app, postgres_only, users, campaign, funded, coordinators
):
    p = negotiating(users, campaign, "Anna Runs")
    request = move_out(users, funded, "1000")
    finance = users["finance"]
    won, lost = winner_and_loser(
        race(app, contract(coordinators[0].id, p.id), approve_move(finance.id, request.id))
    )
    allocation = fresh(AllocationLine, funded[1]["influencers"].id).planned_minor
    committed = fresh(Partnership, p.id).fee_minor if fresh(Partnership, p.id).is_committed else 0
    assert committed <= allocation
    if won == 0:
        assert (allocation, committed) == (150_000, 100_000)
        assert "has €1,000.00 contracted with influencers" in lost.message
    else:
        assert (allocation, committed) == (50_000, 0)
        assert "over the approved influencer allocation of €500.00" in lost.message
