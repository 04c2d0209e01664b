"""A destructive button asks before it posts: answering Cancel changes nothing, OK goes ahead
(static/confirm.js reads the button's data-confirm; tests/test_destructive_confirm.py checks
that every such button carries one)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Dialog, Page, expect

from core.extensions import db
from tests import factories
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_removing_a_goal_asks_first_and_cancel_keeps_it(page: Page, sign_in, users) -> None:
    campaign = factories.CampaignFactory(owner=users["marketer"], name="Asks first")
    factories.GoalFactory(campaign=campaign, metric="cpa", direction="at_most")
    factories.GoalFactory(campaign=campaign)
    db.session.commit()
    sign_in(users["marketer"].email, PASSWORD)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    page.goto(f"/campaigns/{campaign.id}")
    goals = page.locator("table.goals tbody tr")
    expect(goals).to_have_count(2)

    asked: list[str] = []

    def answer(accept: bool):
        def handler(dialog: Dialog) -> None:
            asked.append(dialog.message)
            dialog.accept() if accept else dialog.dismiss()

        return handler

    page.once("dialog", answer(False))
    page.get_by_role("button", name="Remove the CPA goal").click()
    expect(goals).to_have_count(2)
    assert asked == ["Remove the CPA goal? This cannot be undone."]
    expect(page.get_by_role("status")).to_have_count(0)  # nothing posted, nothing flashed

    page.once("dialog", answer(True))
    page.get_by_role("button", name="Remove the CPA goal").click()
    expect(page.get_by_role("status")).to_have_text("Goal removed.")
    expect(goals).to_have_count(1)
    assert len(asked) == 2


def test_everyday_buttons_ask_nothing(page: Page, sign_in, users) -> None:
    campaign = factories.CampaignFactory(owner=users["marketer"], name="No nagging")
    factories.GoalFactory(campaign=campaign)
    db.session.commit()
    sign_in(users["marketer"].email, PASSWORD)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    page.goto(f"/campaigns/{campaign.id}")
    asked: list[str] = []
    page.on("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.get_by_role("button", name="Mark planned").click()
    expect(page.get_by_role("status")).to_have_text("“No nagging” is now planned.")
    assert asked == []
