"""The partnership "Save terms" page, posted exactly as the page's own form is (no field it
does not show, such as the payment plan chosen at creation), and every refusal shown."""

from __future__ import annotations

import pytest

from core.extensions import db
from influencers.models import Partnership
from tests.matrix_influencers import make_influencer, make_partnership
from tests.page_forms import field_errors, form_fields


def edit_url(p: Partnership) -> str:
    return f"/influencers/partnerships/{p.id}/edit"


def fresh(p: Partnership) -> Partnership:
    return db.session.get(Partnership, p.id, populate_existing=True)


@pytest.fixture
def prospect(users, campaign):
    p = make_partnership(make_influencer("Cara Cooks"), campaign, users["coordinator"])
    db.session.commit()
    return p


@pytest.mark.parametrize("role", ["coordinator", "admin"])
def test_save_terms_posts_the_page_form_and_saves(prospect, client, login_as, role):
    login_as(role)
    page = client.get(edit_url(prospect)).get_data(as_text=True)
    fields = form_fields(page)
    assert "plan" not in fields  # the plan is chosen once, at creation
    fields |= {"fee": "1250.50", "notes": "Two reels, one story", "exclusivity_days": "30"}
    response = client.post(edit_url(prospect), data=fields)
    assert response.status_code == 302, field_errors(response.get_data(as_text=True), "fee")
    p = fresh(prospect)
    assert (p.fee_minor, p.notes, p.exclusivity_days) == (125_050, "Two reels, one story", 30)
    assert sum(m.amount_minor for m in p.milestones) == 125_050  # the plan follows the fee


def test_save_terms_of_a_contracted_partnership_keeps_the_fee(deal, client, login_as):
    p, _ = deal
    login_as("coordinator")
    page = client.get(edit_url(p)).get_data(as_text=True)
    fields = form_fields(page)
    assert fields["fee"] == "1000.00"  # shown, not editable, posted back as it is
    response = client.post(edit_url(p), data=fields | {"usage_rights": "Organic, 6 months"})
    assert response.status_code == 302
    assert (fresh(p).usage_rights, fresh(p).fee_minor) == ("Organic, 6 months", 100_000)


def test_every_refusal_of_the_terms_is_shown_beside_its_field(prospect, client, login_as):
    login_as("coordinator")
    fields = form_fields(client.get(edit_url(prospect)).get_data(as_text=True))
    bad = fields | {"fee": "-5", "start_date": "2026-12-10", "end_date": "2026-12-01"}
    response = client.post(edit_url(prospect), data=bad)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert field_errors(page, "fee") == ["The fee cannot be negative."]
    assert field_errors(page, "end_date") == ["The partnership must end on or after its start."]
    assert fresh(prospect).fee_minor == 100_000
