"""In Chromium, as a viewer: every dashboard reads, no page offers a change, and a change
asked for by URL gets the "Not allowed" page inside the app."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from budgets.models import Budget
from campaigns.models import Campaign
from core.extensions import db
from core.models import Role
from influencers.models import Deliverable, Partnership
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

WRITE_LINK = re.compile(r"/(new|edit|import|connect|split|phasing|lines/new|reallocations/new)\b")


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
    return {
        "campaign": db.session.scalar(select(Campaign.id).where(Campaign.status == "active")),
        "budget": db.session.scalar(select(Budget.id).where(Budget.status == "open")),
        "partnership": db.session.scalar(select(Partnership.id)),
        "deliverable": db.session.scalar(select(Deliverable.id)),
    }


def test_viewer_reads_everything_and_is_offered_no_change(page: Page, sign_in, users, demo):
    sign_in(users["viewer"].email, PASSWORD)
    expect(page.get_by_title("Your role")).to_have_text("Viewer")
    pages = [
        "/",
        "/campaigns/",
        f"/campaigns/{demo['campaign']}",
        f"/performance/campaigns/{demo['campaign']}",
        "/campaigns/calendar",
        "/budgets/",
        f"/budgets/{demo['budget']}",
        "/budgets/finance/",
        "/budgets/fx/",
        "/influencers/",
        "/influencers/dashboard",
        f"/influencers/partnerships/{demo['partnership']}",
        f"/influencers/deliverables/{demo['deliverable']}",
        "/influencers/roi",
        "/ads/",
        "/ads/runs",
    ]
    offered = {}
    for path in pages:
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        main = page.locator("main")
        posts = main.locator("form[method=post]").count()
        links = main.locator("a[href]").evaluate_all("as => as.map(a => a.href)")
        writes = [h for h in links if WRITE_LINK.search(h)]
        fields = main.locator("form:not([method=get]) input:not([type=hidden])").count()
        if posts or writes or fields:
            offered[path] = {"post forms": posts, "write links": writes, "fields": fields}
    assert not offered, offered

    # Asked for by URL: refused cleanly, inside the app, with a way back.
    for path in ("/campaigns/new", f"/budgets/{demo['budget']}/lines/new", "/ads/connect"):
        response = page.goto(path)
        assert response is not None and response.status == 403, path
        expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
        expect(page.get_by_role("link", name="Back to the dashboard")).to_be_visible()
        expect(page.get_by_role("navigation", name="Main")).to_be_visible()
