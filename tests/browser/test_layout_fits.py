"""Every role's main pages fit a 1280px-wide screen: the navigation is one row, and no money
tile, card or table cell spills out of its box (on the demo's own budgets, campaigns and
influencers, whose amounts run to six figures)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from budgets.models import Budget
from core.extensions import db
from core.models import Role
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

# Boxes whose content must stay inside them; `.scroll-x` wrappers may scroll, but at 1280px
# they must not need to.
OVERFLOWS = """() => {
  const out = [];
  const boxes = document.querySelectorAll(
    'main section, main .card, main .kpi, main td, main th, main .scroll-x');
  for (const el of boxes) {
    if (el.scrollWidth > el.clientWidth + 1) {
      const title = el.closest('section')?.querySelector('h2')?.innerText || '';
      out.push(`${el.tagName.toLowerCase()}.${el.className} in "${title}": ` +
               `${el.scrollWidth}px of content in ${el.clientWidth}px`);
    }
  }
  // A money tile whose amount breaks over two lines ("US$79,904.4 / 7") fits, but misreads.
  for (const el of document.querySelectorAll('main .kpi .v')) {
    if (!/[0-9]/.test(el.innerText)) continue;  // a pacing badge may wrap; amounts may not
    const range = document.createRange();
    range.selectNodeContents(el);
    const lines = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
    if (lines.size > 1) out.push(`tile "${el.innerText}" wraps over ${lines.size} lines`);
  }
  if (document.documentElement.scrollWidth > window.innerWidth) {
    out.push(`page: ${document.documentElement.scrollWidth}px wide`);
  }
  return out;
}"""
# Rows of main-navigation links, and the top bar's height (one row is about 45px).
NAV_ROWS = """() => new Set([...document.querySelectorAll('nav.mainnav a')]
  .map(a => Math.round(a.getBoundingClientRect().top))).size"""
TOPBAR_HEIGHT = "() => document.querySelector('header.topbar').offsetHeight"


@pytest.fixture
def demo_data(users):
    from budgets.demo import seed_budgets
    from campaigns.demo import seed_campaigns
    from influencers.demo import seed_influencers

    roles = {Role(r): u for r, u in users.items()}
    seed_campaigns(roles)
    seed_budgets(roles)
    seed_influencers(roles)
    db.session.commit()
    usd = db.session.scalar(select(Budget).where(Budget.currency == "USD", Budget.status == "open"))
    # The campaign with the largest planned budget: the widest numbers on its pages.
    lines = sorted(usd.lines, key=lambda x: -x.planned_minor)
    return {"budget": usd.id, "campaign": lines[0].campaign_id}


def _pages(role: str, data: dict[str, int]) -> list[str]:
    pages = [
        "/",
        "/campaigns/",
        "/budgets/",
        f"/budgets/{data['budget']}",
        f"/performance/campaigns/{data['campaign']}",
        "/influencers/dashboard",
        "/influencers/roi",
    ]
    if role in ("admin", "finance", "viewer"):
        pages.append("/budgets/finance/")
    return pages


@pytest.mark.parametrize("role", ["admin", "finance", "marketer", "coordinator", "viewer"])
def test_main_pages_fit_1280_pixels(page: Page, sign_in, users, demo_data, role: str) -> None:
    assert page.viewport_size == {"width": 1280, "height": 800}
    sign_in(users[role].email, PASSWORD)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    problems = {}
    for path in _pages(role, demo_data):
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        page.wait_for_load_state("load")
        rows = page.evaluate(NAV_ROWS)
        found = page.evaluate(OVERFLOWS)
        height = page.evaluate(TOPBAR_HEIGHT)
        if rows != 1 or height > 60:
            found.append(f"the navigation takes {rows} rows, the top bar {height}px")
        if found:
            problems[path] = found
    assert not problems, problems
