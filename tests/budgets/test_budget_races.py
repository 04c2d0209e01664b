"""Two people acting on the same budget money at the same instant (tests/race.py).

On PostgreSQL two real sessions race (threading.Barrier); the state stays consistent, exactly
one audit row and one notice record the change, and the loser is told what happened. The
`one_after_other` tests (both databases) act on objects loaded before the other's commit: the
second attempt is refused, as it would be when two pages were open at once.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from budgets import phasing, services, workflow
from budgets.models import AllocationLine, Budget, Notification, Reallocation
from budgets.phasing import SplitRow
from core.extensions import db
from core.models import User
from tests.budgets.factories import BudgetFactory, CampaignFactory, LineFactory, UserFactory
from tests.race import audit_rows, one_after_other, postgres_only, race, winner_and_loser

__all__ = ["postgres_only"]  # the fixture, used by name

TIME = r"at \d\d:\d\d UTC"


@pytest.fixture
def people():
    made = {
        "marketer": UserFactory(role="marketer", name="Mia Marketer"),
        "fiona": UserFactory(role="finance", name="Fiona Finance"),
        "frank": UserFactory(role="finance", name="Frank Finance"),
    }
    db.session.commit()
    return made


@pytest.fixture
def budget(people):
    made = BudgetFactory(owner=people["fiona"], total_minor=1_000_000)  # €10,000.00
    db.session.commit()
    return made


@pytest.fixture
def campaign(people):
    made = CampaignFactory(
        owner=people["marketer"],
        planned_budget_minor=1_000_000,
        channels_csv=",meta_ads,influencers,other,",
    )
    db.session.commit()
    return made


def make_line(budget, campaign, people, status="submitted", channel="meta_ads", minor=300_000):
    line = LineFactory(
        budget=budget,
        campaign=campaign,
        channel=channel,
        planned_minor=minor,
        status=status,
        requested_by=people["marketer"],
    )
    db.session.commit()
    return line


# --- contenders: load like a request, then act ---------------------------------------------


def on_line(user_id: int, line_id: int, action, *args):
    def prepare():
        user = db.session.get(User, user_id)
        line = db.session.get(AllocationLine, line_id)
        return lambda: action(user, line, *args)

    return prepare


def on_request(user_id: int, request_id: int, action, *args):
    def prepare():
        user = db.session.get(User, user_id)
        move = db.session.get(Reallocation, request_id)
        return lambda: action(user, move, *args)

    return prepare


def notices(user_id: int) -> list[str]:
    stmt = select(Notification.message).where(Notification.user_id == user_id)
    return list(db.session.scalars(stmt))


def fresh(model, obj_id):
    return db.session.get(model, obj_id, populate_existing=True)


# --- approving twice ------------------------------------------------------------------------


def test_two_finance_users_approve_one_line_at_once(app, postgres_only, people, budget, campaign):
    line = make_line(budget, campaign, people)
    deciders = [people["fiona"], people["frank"]]
    won, lost = winner_and_loser(
        race(app, *(on_line(u.id, line.id, workflow.approve_line, "ok") for u in deciders))
    )
    assert lost.message.startswith(f"Already approved by {deciders[won].name} at ")
    line = fresh(AllocationLine, line.id)
    assert (line.status, line.decided_by_id) == ("approved", deciders[won].id)
    assert len(audit_rows("AllocationLine", line.id, "status", "approved")) == 1
    assert len(notices(people["marketer"].id)) == 1


def test_approving_a_line_someone_just_approved_is_refused(app, people, budget, campaign):
    line = make_line(budget, campaign, people)
    fiona, frank = people["fiona"], people["frank"]
    first, second = one_after_other(
        app,
        on_line(fiona.id, line.id, workflow.approve_line, ""),
        on_line(frank.id, line.id, workflow.approve_line, ""),
    )
    assert first.ok and not second.ok
    assert second.message.startswith("Already approved by Fiona Finance at ")
    assert fresh(AllocationLine, line.id).decided_by_id == fiona.id
    assert len(audit_rows("AllocationLine", line.id, "status", "approved")) == 1
    assert len(notices(people["marketer"].id)) == 1


def test_approve_and_reject_of_one_line_at_once(app, postgres_only, people, budget, campaign):
    line = make_line(budget, campaign, people)
    fiona, frank = people["fiona"], people["frank"]
    won, lost = winner_and_loser(
        race(
            app,
            on_line(fiona.id, line.id, workflow.approve_line, "fine"),
            on_line(frank.id, line.id, workflow.reject_line, "too much"),
        )
    )
    line = fresh(AllocationLine, line.id)
    if won == 0:
        assert line.status == "approved" and line.decided_by_id == fiona.id
        assert lost.message.startswith("Only submitted lines can be rejected: this one was")
        assert "approved by Fiona Finance" in lost.message
    else:
        assert line.status == "rejected" and line.decided_by_id == frank.id
        assert lost.message.startswith("Only submitted lines can be approved: this one was")
        assert "rejected by Frank Finance" in lost.message
    decisions = audit_rows("AllocationLine", line.id, "status", "approved") + audit_rows(
        "AllocationLine", line.id, "status", "rejected"
    )
    assert len(decisions) == 1
    assert len(notices(people["marketer"].id)) == 1  # one notice, of what really happened


def test_rejecting_a_line_someone_just_approved_is_refused(app, people, budget, campaign):
    line = make_line(budget, campaign, people)
    _, second = one_after_other(
        app,
        on_line(people["fiona"].id, line.id, workflow.approve_line, ""),
        on_line(people["frank"].id, line.id, workflow.reject_line, "no"),
    )
    assert not second.ok and "was approved by Fiona Finance" in second.message
    assert fresh(AllocationLine, line.id).status == "approved"
    assert len(notices(people["marketer"].id)) == 1


def test_withdraw_and_approve_at_once(app, postgres_only, people, budget, campaign):
    line = make_line(budget, campaign, people)
    won, lost = winner_and_loser(
        race(
            app,
            on_line(people["marketer"].id, line.id, workflow.withdraw_line),
            on_line(people["fiona"].id, line.id, workflow.approve_line, ""),
        )
    )
    line = fresh(AllocationLine, line.id)
    assert line.status == ("withdrawn" if won == 0 else "approved")
    if won == 0:
        assert lost.message.startswith("Only submitted lines can be approved: this one was")
    else:
        assert lost.message.startswith("Only draft or submitted lines can be withdrawn")
    assert len(audit_rows("AllocationLine", line.id, "status", line.status)) == 1


def test_a_double_submit_notifies_finance_once(app, postgres_only, people, budget, campaign):
    line = make_line(budget, campaign, people, status="draft")
    marketer = people["marketer"]
    _, lost = winner_and_loser(
        race(app, *(on_line(marketer.id, line.id, workflow.submit_line) for _ in range(2)))
    )
    assert lost.message.startswith("Already submitted by Mia Marketer at ")
    assert fresh(AllocationLine, line.id).status == "submitted"
    assert len(audit_rows("AllocationLine", line.id, "status", "submitted")) == 1
    assert len(notices(people["fiona"].id)) == len(notices(people["frank"].id)) == 1


# --- allocation create / edit / phasing / split ----------------------------------------------


def new_line(user_id: int, budget_id: int, campaign_id: int, channel: str, amount: str):
    def prepare():
        user = db.session.get(User, user_id)
        budget = db.session.get(Budget, budget_id)
        data = {"campaign_id": str(campaign_id), "channel": channel, "planned": amount}
        return lambda: services.create_line(user, budget, data, user.role)

    return prepare


def held(budget_id: int) -> int:
    return services.holding_total(budget_id)


def test_two_requests_that_together_pass_the_budget_total(
    app, postgres_only, people, budget, campaign
):
    other = CampaignFactory(owner=people["marketer"], planned_budget_minor=1_000_000)
    db.session.commit()
    won, lost = winner_and_loser(
        race(
            app,
            new_line(people["marketer"].id, budget.id, campaign.id, "meta_ads", "6000"),
            new_line(people["marketer"].id, budget.id, other.id, "meta_ads", "6000"),
        )
    )
    assert "above the budget total €10,000.00 (€4,000.00 left)" in lost.message
    assert held(budget.id) == 600_000 <= budget.total_minor


def test_an_edit_after_a_submit_it_did_not_see_is_refused(app, people, budget, campaign):
    line = make_line(budget, campaign, people, status="draft")
    first, second = one_after_other(
        app,
        on_line(people["marketer"].id, line.id, workflow.submit_line),
        on_line(
            people["fiona"].id,
            line.id,
            lambda user, ln: services.update_line(user, ln, {"planned": "2500"}, "finance"),
        ),
    )
    assert first.ok and not second.ok
    assert second.message.startswith(f"Line {line.id} is submitted now")
    line = fresh(AllocationLine, line.id)
    assert (line.status, line.planned_minor) == ("submitted", 300_000)  # what finance was sent


def test_edit_and_submit_at_once_never_leave_a_submitted_notice_on_a_draft(
    app, postgres_only, people, budget, campaign
):
    line = make_line(budget, campaign, people, status="draft")
    outcomes = race(
        app,
        on_line(people["marketer"].id, line.id, workflow.submit_line),
        on_line(
            people["fiona"].id,
            line.id,
            lambda user, ln: services.update_line(user, ln, {"planned": "2500"}, "finance"),
        ),
    )
    assert outcomes[0].ok and any(o.waited for o in outcomes)
    line = fresh(AllocationLine, line.id)
    assert line.status == "submitted"
    # Edited first (then submitted as edited), or refused after the submit: never both.
    assert line.planned_minor == (250_000 if outcomes[1].ok else 300_000)


def set_months(user_id: int, line_id: int, mode: str, values_of):
    def prepare():
        user = db.session.get(User, user_id)
        line = db.session.get(AllocationLine, line_id)
        months = phasing.line_months(line)
        values = values_of(months)
        return lambda: phasing.set_phasing(line, mode, values, f"by {user.name}")

    return prepare


def approved_trio(budget, campaign, people):
    a = make_line(budget, campaign, people, status="approved", minor=300_000)
    b = make_line(budget, campaign, people, "approved", "influencers", 100_000)
    c = make_line(budget, campaign, people, "approved", "other", 100_000)
    return a, b, c


def move(people, budget, source, target, amount):
    made = workflow.request_reallocation(people["marketer"], budget, source, target, amount, "go")
    db.session.commit()
    return made


def test_phasing_typed_against_an_amount_that_just_moved_is_refused(app, people, budget, campaign):
    a, b, _ = approved_trio(budget, campaign, people)
    request = move(people, budget, a, b, "1000")
    thirds = lambda months: dict.fromkeys(months, "1000")  # noqa: E731 - €3,000 = the old amount
    first, second = one_after_other(
        app,
        on_request(people["fiona"].id, request.id, workflow.approve_reallocation, ""),
        set_months(people["frank"].id, a.id, "amounts", thirds),
    )
    assert first.ok and not second.ok
    assert "not the line's €2,000.00" in second.message
    a = fresh(AllocationLine, a.id)
    assert a.planned_minor == 200_000 and a.phases == []


def test_phasing_and_a_move_at_once_keep_the_months_adding_up(
    app, postgres_only, people, budget, campaign
):
    a, b, _ = approved_trio(budget, campaign, people)
    request = move(people, budget, a, b, "1000")
    thirds = lambda months: dict.fromkeys(months, "1000")  # noqa: E731
    outcomes = race(
        app,
        on_request(people["fiona"].id, request.id, workflow.approve_reallocation, ""),
        set_months(people["frank"].id, a.id, "amounts", thirds),
    )
    assert outcomes[0].ok and any(o.waited for o in outcomes)
    a = fresh(AllocationLine, a.id)
    assert a.planned_minor == 200_000
    assert sum(p.planned_minor for p in a.phases) in (0, a.planned_minor)


def split_in(user_id: int, budget_id: int, amount: str, campaign_ids: list[int]):
    def prepare():
        user = db.session.get(User, user_id)
        budget = db.session.get(Budget, budget_id)
        rows = [SplitRow(str(c), "meta_ads", "1") for c in campaign_ids]
        return lambda: phasing.split_into_lines(user, budget, amount, "weights", rows, user.role)

    return prepare


def test_two_splits_at_once_are_all_or_nothing(app, postgres_only, people, budget):
    campaigns = [
        CampaignFactory(owner=people["marketer"], planned_budget_minor=1_000_000) for _ in range(4)
    ]
    db.session.commit()
    ids = [c.id for c in campaigns]
    _, lost = winner_and_loser(
        race(
            app,
            split_in(people["marketer"].id, budget.id, "6000", ids[:2]),
            split_in(people["marketer"].id, budget.id, "6000", ids[2:]),
        )
    )
    assert "above the budget total" in lost.message
    count = db.session.scalar(select(func.count(AllocationLine.id)))
    assert (count, held(budget.id)) == (2, 600_000)


# --- reallocations --------------------------------------------------------------------------


def test_two_moves_out_of_one_line_approved_at_once_debit_it_twice(
    app, postgres_only, people, budget, campaign
):
    a, b, c = approved_trio(budget, campaign, people)
    to_b, to_c = move(people, budget, a, b, "1000"), move(people, budget, a, c, "1000")
    outcomes = race(
        app,
        on_request(people["fiona"].id, to_b.id, workflow.approve_reallocation, ""),
        on_request(people["frank"].id, to_c.id, workflow.approve_reallocation, ""),
    )
    assert all(o.ok for o in outcomes) and any(o.waited for o in outcomes)
    amounts = [fresh(AllocationLine, x.id).planned_minor for x in (a, b, c)]
    assert amounts == [100_000, 200_000, 200_000]
    assert sum(amounts) == 500_000  # no money from nothing
    for x in (to_b, to_c):
        assert len(audit_rows("Reallocation", x.id, "status", "approved")) == 1


def test_two_moves_that_together_take_more_than_the_line_holds(
    app, postgres_only, people, budget, campaign
):
    a, b, c = approved_trio(budget, campaign, people)

    def ask(target_id: int):
        def prepare():
            user = db.session.get(User, people["marketer"].id)
            budget_ = db.session.get(Budget, budget.id)
            source = db.session.get(AllocationLine, a.id)
            target = db.session.get(AllocationLine, target_id)
            return lambda: workflow.request_reallocation(
                user, budget_, source, target, "2000", "more reach"
            )

        return prepare

    _, lost = winner_and_loser(race(app, ask(b.id), ask(c.id)))
    assert "has €1,000.00 free to move (after other pending requests)" in lost.message
    assert db.session.scalar(select(func.count(Reallocation.id))) == 1


def test_approve_and_reject_of_one_move_at_once(app, postgres_only, people, budget, campaign):
    a, b, _ = approved_trio(budget, campaign, people)
    request = move(people, budget, a, b, "1000")
    fiona, frank = people["fiona"], people["frank"]
    won, lost = winner_and_loser(
        race(
            app,
            on_request(fiona.id, request.id, workflow.approve_reallocation, ""),
            on_request(frank.id, request.id, workflow.reject_reallocation, "not now"),
        )
    )
    request = fresh(Reallocation, request.id)
    expected = ("approved", fiona) if won == 0 else ("rejected", frank)
    assert (request.status, request.decided_by_id) == (expected[0], expected[1].id)
    assert lost.message.startswith(f"Already {expected[0]} by {expected[1].name} at ")
    moved = fresh(AllocationLine, a.id).planned_minor
    assert moved == (200_000 if won == 0 else 300_000)
    assert len(notices(people["marketer"].id)) == 1


def test_approving_a_move_someone_just_rejected_is_refused(app, people, budget, campaign):
    a, b, _ = approved_trio(budget, campaign, people)
    request = move(people, budget, a, b, "1000")
    _, second = one_after_other(
        app,
        on_request(people["frank"].id, request.id, workflow.reject_reallocation, "no"),
        on_request(people["fiona"].id, request.id, workflow.approve_reallocation, ""),
    )
    assert not second.ok and second.message.startswith("Already rejected by Frank Finance at ")
    assert fresh(AllocationLine, a.id).planned_minor == 300_000


# --- closing a period ---------------------------------------------------------------------------


def close(user_id: int, budget_id: int):
    def prepare():
        user = db.session.get(User, user_id)
        budget = db.session.get(Budget, budget_id)
        return lambda: workflow.close_budget(user, budget, budget.end_date + timedelta(days=1))

    return prepare


def test_closing_and_approving_at_once(app, postgres_only, people, budget, campaign):
    line = make_line(budget, campaign, people)
    closing, approving = race(
        app,
        close(people["frank"].id, budget.id),
        on_line(people["fiona"].id, line.id, workflow.approve_line, ""),
    )
    assert closing.ok and (closing.waited or approving.waited)
    line = fresh(AllocationLine, line.id)
    assert fresh(Budget, budget.id).status == "closed"
    if approving.ok:  # approved first: the close then locks the approved line
        assert line.status == "locked" and line.decided_by_id == people["fiona"].id
    else:  # closed first: the close refused the request, and the approval is told so
        assert (line.status, line.decision_comment) == (
            "rejected",
            "Period closed before a decision",
        )
        assert approving.message.startswith("This budget's period was closed by Frank Finance")
    assert len(notices(people["marketer"].id)) == (1 if approving.ok else 0)


def test_closing_twice_is_refused(app, people, budget):
    _, second = one_after_other(
        app, close(people["fiona"].id, budget.id), close(people["frank"].id, budget.id)
    )
    assert not second.ok
    assert second.message.startswith("This budget's period was closed by Fiona Finance at ")
    assert len(audit_rows("Budget", budget.id, "status", "closed")) == 1
