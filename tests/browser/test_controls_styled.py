"""Every form control on every page an admin reaches wears the app's style (rounded border,
the page's font), not the browser's bare default: a walk over the demo, one page per kind."""

from __future__ import annotations

import re
from collections import deque
from urllib.parse import urljoin, urlsplit

import pytest
from playwright.sync_api import Page, expect

from core.extensions import db
from core.models import Role
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

BARE_CONTROLS = """() => [...document.querySelectorAll('main input, main select, main textarea')]
  .filter(el => !['hidden', 'checkbox', 'radio', 'file'].includes(el.type) && el.offsetParent)
  .filter(el => getComputedStyle(el).borderTopLeftRadius === '0px')
  .map(el => `${el.tagName.toLowerCase()} ${el.name || el.id || el.getAttribute('aria-label')}`)"""
LINKS = "() => [...document.querySelectorAll('main a[href], nav a[href]')].map(a => a.href)"
SKIP = re.compile(r"/(export|vendor|static)\b|format=")


@pytest.fixture
def demo(users):
    from budgets.demo import seed_budgets
    from campaigns.demo import seed_campaigns
    from influencers.demo import seed_influencers

    roles = {Role(r): u for r, u in users.items()}
    seed_campaigns(roles)
    seed_budgets(roles)
    seed_influencers(roles)
    db.session.commit()


def test_no_control_is_left_in_the_browser_default_style(page: Page, sign_in, users, demo):
    sign_in(users["admin"].email, PASSWORD)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    origin = urlsplit(page.url).netloc
    queue, seen, shapes, bare = deque(["/"]), set(), set(), {}
    while queue:
        path = queue.popleft()
        shape = re.sub(r"\d+", "N", path.split("?")[0])
        if path in seen or shape in shapes or SKIP.search(path):
            continue
        seen.add(path)
        shapes.add(shape)
        page.goto(path)
        if found := page.evaluate(BARE_CONTROLS):
            bare[path] = found
        for href in page.evaluate(LINKS):
            target = urlsplit(urljoin(page.url, href))
            if target.netloc == origin:
                queue.append(target.path + (f"?{target.query}" if target.query else ""))
    assert {"/ads/accounts/N", "/influencers/deliverables/N"} <= shapes
    assert not bare, bare


def test_a_button_styled_as_a_link_looks_like_the_links_beside_it(page: Page, sign_in, users):
    from tests import factories

    campaign = factories.CampaignFactory(owner=users["marketer"], name="Side by side")
    factories.GoalFactory(campaign=campaign)
    db.session.commit()
    sign_in(users["marketer"].email, PASSWORD)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    page.goto(f"/campaigns/{campaign.id}")
    row = page.locator("table.goals tbody tr").first
    edit = row.get_by_role("link", name="Edit the ROAS goal")
    remove = row.get_by_role("button", name="Remove the ROAS goal")
    color = "el => getComputedStyle(el).color"
    assert remove.evaluate(color) == edit.evaluate(color)
    # The sign-out button in the dark top bar keeps its own light colour.
    sign_out = page.get_by_role("button", name="Sign out")
    assert sign_out.evaluate(color) != remove.evaluate(color)
