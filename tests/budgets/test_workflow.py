"""Approval transitions, self-approval refusal, reallocations, closing a period, the audit
trail with comments, and in-app notifications."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from budgets import phasing, services, workflow
from budgets.models import Notification, Reallocation
from budgets.services import BudgetError
from core.audit import history_for
from core.extensions import db
from tests.budgets.factories import BudgetFactory, CampaignFactory, LineFactory, UserFactory

STATUSES = ("draft", "submitted", "approved", "rejected", "withdrawn", "locked")


@pytest.fixture
def people():
    return {
        "marketer": UserFactory(role="marketer"),
        "finance": UserFactory(role="finance"),
        "finance2": UserFactory(role="finance"),
    }


@pytest.fixture
def line(people):
    budget = BudgetFactory(owner=people["finance"])
    campaign = CampaignFactory(owner=people["marketer"])
    made = LineFactory(
        budget=budget, campaign=campaign, requested_by=people["marketer"], planned_minor=250_000
    )
    db.session.flush()
    return made


def test_happy_path_draft_submitted_approved(people, line):
    workflow.submit_line(people["marketer"], line)
    assert line.status == "submitted" and line.submitted_at is not None
    workflow.approve_line(people["finance"], line, "Looks right")
    assert (line.status, line.decided_by_id, line.decision_comment) == (
        "approved",
        people["finance"].id,
        "Looks right",
    )


def test_only_submitted_lines_are_decided_and_only_drafts_submitted(people, line):
    # What was asked is already done: "Already …"; anything else: which states may do it.
    for start in STATUSES:
        line.status = start
        if start != "submitted":
            approve = "Already approved" if start == "approved" else "Only submitted lines"
            with pytest.raises(BudgetError, match=approve):
                workflow.approve_line(people["finance"], line, "")
            reject = "Already rejected" if start == "rejected" else "Only submitted lines"
            with pytest.raises(BudgetError, match=reject):
                workflow.reject_line(people["finance"], line, "no")
        if start != "draft":
            submit = "Already submitted" if start == "submitted" else "Only draft lines"
            with pytest.raises(BudgetError, match=submit):
                workflow.submit_line(people["marketer"], line)
        assert line.status == start


def test_nobody_approves_their_own_request(people):
    budget = BudgetFactory(owner=people["finance"])
    campaign = CampaignFactory(owner=people["marketer"])
    own = services.create_line(
        people["finance"],
        budget,
        {"campaign_id": campaign.id, "channel": "meta_ads", "planned": "100"},
        "finance",
    )
    workflow.submit_line(people["finance"], own)
    with pytest.raises(BudgetError, match="someone else in finance must decide"):
        workflow.approve_line(people["finance"], own)
    with pytest.raises(BudgetError, match="someone else in finance must decide"):
        workflow.reject_line(people["finance"], own, "nope")
    assert own.status == "submitted"
    workflow.approve_line(people["finance2"], own)
    assert own.status == "approved"


def test_rejection_needs_a_comment_and_the_line_can_come_back(people, line):
    workflow.submit_line(people["marketer"], line)
    with pytest.raises(BudgetError, match="Give a reason"):
        workflow.reject_line(people["finance"], line, "  ")
    workflow.reject_line(people["finance"], line, "Too much for one channel")
    assert line.status == "rejected"
    services.update_line(people["marketer"], line, {"planned": "1500"}, "marketer", "Halved")
    assert (line.status, line.planned_minor, line.decision_comment) == ("draft", 150_000, "")
    workflow.submit_line(people["marketer"], line)
    assert line.status == "submitted"


def test_approved_lines_change_only_by_reallocation(people, line):
    line.status = "approved"
    with pytest.raises(BudgetError, match="reallocation request"):
        services.update_line(people["marketer"], line, {"planned": "1"}, "marketer")


def test_withdraw(people, line):
    workflow.withdraw_line(people["marketer"], line)
    assert line.status == "withdrawn"
    with pytest.raises(BudgetError):
        workflow.withdraw_line(people["marketer"], line)


def approved_pair(people, amount_a=300_000, amount_b=100_000):
    budget = BudgetFactory(owner=people["finance"])
    campaign = CampaignFactory(owner=people["marketer"], planned_budget_minor=1_000_000)
    a = LineFactory(
        budget=budget,
        campaign=campaign,
        channel="meta_ads",
        planned_minor=amount_a,
        status="approved",
        requested_by=people["marketer"],
    )
    b = LineFactory(
        budget=budget,
        campaign=campaign,
        channel="influencers",
        planned_minor=amount_b,
        status="approved",
        requested_by=people["marketer"],
    )
    db.session.flush()
    return budget, a, b


def test_reallocation_moves_money_exactly_once_approved(people):
    budget, a, b = approved_pair(people)
    move = workflow.request_reallocation(
        people["marketer"], budget, a, b, "1000.50", "Creators outperform"
    )
    assert (a.planned_minor, b.planned_minor) == (300_000, 100_000)  # nothing moves yet
    workflow.approve_reallocation(people["finance"], move, "ok")
    assert (a.planned_minor, b.planned_minor) == (199_950, 200_050)
    assert a.planned_minor + b.planned_minor == 400_000
    assert move.status == "approved"
    with pytest.raises(BudgetError, match="Already approved by"):
        workflow.approve_reallocation(people["finance2"], move)


def test_reallocation_guard_rails(people):
    budget, a, b = approved_pair(people)
    ask = lambda amount, src=a, dst=b, reason="why": workflow.request_reallocation(  # noqa: E731
        people["marketer"], budget, src, dst, amount, reason
    )
    with pytest.raises(BudgetError, match="free to move"):
        ask("3000.01")
    with pytest.raises(BudgetError, match="two different lines"):
        ask("1", dst=a)
    with pytest.raises(BudgetError, match="Give a reason"):
        ask("1", reason="")
    with pytest.raises(BudgetError, match="more than zero"):
        ask("0")
    ask("2000")
    with pytest.raises(BudgetError, match="free to move"):  # the pending 2,000 is spoken for
        ask("1000.01")
    draft = LineFactory(budget=budget, campaign=a.campaign, channel="other", planned_minor=0)
    a.campaign.channels = ["meta_ads", "influencers", "other"]
    with pytest.raises(BudgetError, match="only approved lines move"):
        ask("1", dst=draft)


def test_reallocation_self_approval_and_rejection(people):
    budget, a, b = approved_pair(people)
    move = workflow.request_reallocation(people["finance"], budget, a, b, "10", "why")
    with pytest.raises(BudgetError, match="someone else"):
        workflow.approve_reallocation(people["finance"], move)
    with pytest.raises(BudgetError, match="Give a reason"):
        workflow.reject_reallocation(people["finance2"], move, "")
    workflow.reject_reallocation(people["finance2"], move, "Not this month")
    assert move.status == "rejected" and a.planned_minor == 300_000


def test_reallocation_rescales_monthly_phasing_exactly(people):
    budget, a, b = approved_pair(people, amount_a=300_001)
    months = phasing.line_months(a)
    phasing.set_phasing(a, "weights", dict.fromkeys(months, "1"))
    move = workflow.request_reallocation(people["marketer"], budget, a, b, "1000", "why")
    workflow.approve_reallocation(people["finance"], move)
    assert sum(p.planned_minor for p in a.phases) == a.planned_minor == 200_001


def test_every_money_change_is_audited_with_a_comment(people, line):
    workflow.submit_line(people["marketer"], line)
    workflow.approve_line(people["finance"], line, "Fine by me")
    entries = history_for(line)
    comments = [e.comment for e in entries]
    assert "Approved: Fine by me" in comments and "Submitted for approval" in comments
    approved = next(e for e in entries if e.comment == "Approved: Fine by me")
    assert approved.changes["status"] == ["submitted", "approved"]
    budget, a, b = approved_pair(people)
    move = workflow.request_reallocation(people["marketer"], budget, a, b, "5", "Shift")
    workflow.approve_reallocation(people["finance"], move, "ok")
    moved = [e for e in history_for(a) if e.changes.get("planned_minor")]
    assert moved[0].changes["planned_minor"] == [300_000, 299_500]
    assert moved[0].comment == f"Reallocation {move.id} approved: Shift / ok"


def test_notifications_finance_hears_of_requests_requesters_of_decisions(people, line):
    workflow.submit_line(people["marketer"], line)
    db.session.flush()
    for user in (people["finance"], people["finance2"]):
        assert workflow.unread_count(user.id) == 1
    assert workflow.unread_count(people["marketer"].id) == 0
    workflow.reject_line(people["finance"], line, "Split it by month")
    db.session.flush()
    notice = db.session.scalar(
        select(Notification).where(Notification.user_id == people["marketer"].id)
    )
    assert "Rejected" in notice.message and "Split it by month" in notice.message
    assert workflow.mark_read(people["marketer"].id) == 1
    assert workflow.unread_count(people["marketer"].id) == 0


def test_closing_a_period_locks_and_settles_everything(people):
    budget, a, b = approved_pair(people)
    pending = LineFactory(budget=budget, campaign=a.campaign, channel="other", status="submitted")
    move = workflow.request_reallocation(people["marketer"], budget, a, b, "1", "why")
    with pytest.raises(BudgetError, match="close it after that day"):
        workflow.close_budget(people["finance"], budget, budget.end_date)
    workflow.close_budget(people["finance"], budget, budget.end_date + timedelta(days=1))
    assert (budget.status, a.status, b.status, pending.status) == (
        "closed",
        "locked",
        "locked",
        "rejected",
    )
    assert db.session.get(Reallocation, move.id).status == "rejected"
    with pytest.raises(BudgetError, match="closed"):
        workflow.request_reallocation(people["marketer"], budget, a, b, "1", "why")
    with pytest.raises(BudgetError, match="closed"):
        services.apply_budget(budget, {"total": "1"}, "finance")
