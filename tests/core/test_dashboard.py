"""The dashboard points each role at its own work, and never at a page it may not open."""

from __future__ import annotations

import re

import pytest

from core.extensions import db
from tests import factories
from tests.conftest import login

WHERE_TO_GO = {
    "admin": {"Finance dashboard", "Ad accounts", "Audit log", "Users", "Partnerships dashboard"},
    "marketer": {"Budgets", "Ad accounts", "Partnerships dashboard", "All campaigns"},
    "finance": {"Finance dashboard", "Approvals &amp; notices", "FX rates", "Budgets"},
    "coordinator": {"Partnerships dashboard", "Influencer ROI", "Budgets"},
    "viewer": {"Finance dashboard", "Ad accounts", "Influencer ROI", "Calendar"},
}
NOT_FOR = {
    "marketer": {"Finance dashboard", "FX rates", "Audit log", "Users"},
    "coordinator": {"Finance dashboard", "FX rates", "Approvals &amp; notices", "Users"},
    "viewer": {"FX rates", "Approvals &amp; notices", "Audit log", "Users"},
    "finance": {"Users"},
}


@pytest.mark.parametrize("role", sorted(WHERE_TO_GO))
def test_every_dashboard_link_opens_for_that_role(app, users, role):
    campaign = factories.CampaignFactory(owner=users[role], name="Own campaign")
    db.session.commit()
    client = app.test_client()
    login(client, users[role])
    html = client.get("/").get_data(as_text=True)
    main = html.split("<main", 1)[1].split("</main>")[0]
    where = main.split('id="where-to-go"')[1].split("</section>")[0]
    labels = set(re.findall(r'<a href="[^"]+">([^<]+)</a>', where))
    assert WHERE_TO_GO[role] <= labels, labels
    assert not (NOT_FOR.get(role, set()) & labels), labels
    for href in sorted(set(re.findall(r'href="(/[^"]*)"', main))):
        response = client.get(href)
        assert response.status_code == 200, (role, href, response.status_code)
    if role in ("marketer", "admin"):
        assert f'href="/performance/campaigns/{campaign.id}"' in main
