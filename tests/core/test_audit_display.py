"""The audit table ("Recent changes" and the audit log) shows amounts as money in the
object's currency, shares as per cent, and no empty "∅ → " rows for fields a create left
blank; the stored entries stay as they were (minor units, raw values)."""

from __future__ import annotations

import re
from html import unescape

from core.extensions import db
from core.models import AuditEntry
from tests import factories
from tests.matrix_influencers import make_influencer, make_partnership

CAMPAIGN_FORM = {
    "name": "Autumn Boots Launch",
    "objective": "sales",
    "channels": ["meta_ads"],
    "brand": "Stride",
    "product": "",
    "description": "",
    "start_date": "2026-09-01",
    "end_date": "2026-10-31",
    "currency": "JPY",
    "planned_budget": "2,500,000",
}


def changes(html: str) -> list[str]:
    items = re.findall(r'<ul class="changes">(.*?)</ul>', unescape(html), re.S)
    return [
        re.sub(r"<[^>]+>", "", li).strip()
        for ul in items
        for li in re.findall(r"<li>(.*?)</li>", ul, re.S)
    ]


def test_a_created_campaign_lists_its_budget_as_money_and_skips_blanks(client, login_as):
    login_as("marketer")
    response = client.post("/campaigns/new", data=CAMPAIGN_FORM)
    assert response.status_code == 302
    client.post("/logout")
    login_as("admin")
    shown = changes(client.get(response.location).get_data(as_text=True))
    assert "planned_budget_minor: ∅ → JP¥2,500,000" in shown
    assert not [c for c in shown if c.startswith(("product:", "description:"))]
    assert not [c for c in shown if c.endswith("→")]


def test_an_update_uses_the_objects_currency(users, client, login_as):
    campaign = factories.CampaignFactory(owner=users["admin"], currency="GBP")
    db.session.commit()
    assert campaign.planned_budget_minor == 1_000_000  # loaded, so the audit sees the old value
    campaign.planned_budget_minor = 1_234_500
    db.session.commit()
    login_as("admin")
    shown = changes(client.get(f"/campaigns/{campaign.id}").get_data(as_text=True))
    assert "planned_budget_minor: £10,000.00 → £12,345.00" in shown
    stored = db.session.query(AuditEntry).filter_by(action="update").one()
    assert stored.changes["planned_budget_minor"] == [1_000_000, 1_234_500]  # unchanged data


def test_milestone_shares_read_as_per_cent_in_the_audit_log(users, client, login_as):
    campaign = factories.CampaignFactory(owner=users["marketer"])
    make_partnership(make_influencer("Anna Runs"), campaign, users["coordinator"])
    db.session.commit()
    login_as("admin")
    shown = changes(client.get("/admin/audit?type=PaymentMilestone").get_data(as_text=True))
    assert "share_bp: ∅ → 50 %" in shown
    assert "amount_minor: ∅ → €500.00" in shown
