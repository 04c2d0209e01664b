"""A refused promo code, milestone or payment on the partnership page: the page comes back (400)
with the message beside the field, what was typed still in it, no banner, and nothing saved."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta

import pytest

from core.extensions import db
from influencers import payments
from influencers.models import Partnership, PaymentMilestone
from tests.matrix_influencers import make_deliverable, make_influencer, make_partnership

BANNER = 'class="flash flash-error"'


def errors(page: str, name: str) -> list[str]:
    found = re.findall(rf'<p class="error" role="alert" data-error-for="{name}">([^<]*)</p>', page)
    return [html.unescape(e) for e in found]


def value_of(page: str, name: str) -> str | None:
    found = re.search(rf'<input[^>]*name="{name}"[^>]*>', page)
    if found is None:
        return None
    value = re.search(r'value="([^"]*)"', found.group(0))
    return value.group(1) if value else ""


@pytest.fixture
def prospect(users, campaign):
    """A prospect whose plan covers half the fee so far."""
    p = make_partnership(
        make_influencer("Cara Cooks"), campaign, users["coordinator"], plan="custom"
    )
    payments.add_milestone(p, "Deposit", 5000, "contract", None)
    db.session.commit()
    return p


def _milestones(p: Partnership) -> list[tuple[str, int]]:
    db.session.expire_all()
    return [(m.label, m.share_bp) for m in db.session.get(Partnership, p.id).milestones]


# --- promo codes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("a!", "Use 3–32 letters, digits, - or _ (starting with a letter or digit)."),
        ("X" * 33, "Use at most 32 characters."),
    ],
)
def test_a_bad_promo_code_is_refused_beside_the_field(prospect, client, login_as, typed, message):
    login_as("coordinator")
    response = client.post(
        f"/influencers/partnerships/{prospect.id}/promo-code", data={"code": typed}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert errors(page, "code") == [message]
    assert value_of(page, "code") == typed  # kept for correcting
    assert BANNER not in page
    db.session.expire_all()
    assert db.session.get(Partnership, prospect.id).promo_code is None


def test_a_promo_code_in_use_names_its_owner_beside_the_field(
    prospect, users, campaign, client, login_as
):
    other = make_partnership(make_influencer("Dan Dives"), campaign, users["coordinator"])
    other.promo_code = "DAN10"
    db.session.commit()
    login_as("coordinator")
    response = client.post(
        f"/influencers/partnerships/{prospect.id}/promo-code", data={"code": "dan10"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert errors(page, "code") == [f"DAN10 is already used by {other}."]
    db.session.expire_all()
    assert db.session.get(Partnership, prospect.id).promo_code is None


def test_a_good_promo_code_is_saved_and_confirmed(prospect, client, login_as):
    login_as("coordinator")
    response = client.post(
        f"/influencers/partnerships/{prospect.id}/promo-code", data={"code": "cara15"}
    )
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    assert "Promo code saved." in page
    assert '<code id="promo-code">CARA15</code>' in page


# --- milestones -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"label": "", "share": "10"}, "label", "Name the milestone, e.g. “50% on contract”."),
        (
            {"label": "Bonus", "share": ""},
            "share",
            "Enter the share as a percentage, e.g. 50 or 33.33.",
        ),
        (
            {"label": "Bonus", "share": "ten"},
            "share",
            "Enter the share as a percentage, e.g. 50 or 33.33.",
        ),
        (
            {"label": "Bonus", "share": "10.005"},
            "share",
            "Enter the share as a percentage, e.g. 50 or 33.33.",
        ),
        (
            {"label": "Bonus", "share": "60"},
            "share",
            "The milestones would add up to more than 100 % of the fee.",
        ),
        (
            {"label": "Bonus", "share": "10", "condition": "deliverable"},
            "deliverable_id",
            "Choose one of this partnership's deliverables.",
        ),
    ],
)
def test_a_refused_milestone_is_shown_beside_its_field(
    prospect, client, login_as, data, field, message
):
    before = _milestones(prospect)
    login_as("coordinator")
    form = {"condition": "contract"} | data
    response = client.post(f"/influencers/partnerships/{prospect.id}/milestones", data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert errors(page, field) == [message]
    assert value_of(page, "label") == form["label"]
    assert value_of(page, "share") == form["share"]
    assert BANNER not in page
    assert _milestones(prospect) == before


def test_the_chosen_deliverable_stays_selected_after_a_refusal(prospect, client, login_as):
    d = make_deliverable(prospect)
    db.session.commit()
    login_as("coordinator")
    response = client.post(
        f"/influencers/partnerships/{prospect.id}/milestones",
        data={"label": "", "share": "10", "condition": "deliverable", "deliverable_id": str(d.id)},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert re.search(rf'<option value="{d.id}" selected>', page)
    assert re.search(r'<option selected value="deliverable">', page)


def test_a_contracted_plan_refusal_shows_in_the_payments_card(deal, client, login_as):
    p, _ = deal
    before = _milestones(p)
    login_as("coordinator")
    response = client.post(
        f"/influencers/partnerships/{p.id}/milestones",
        data={"label": "Bonus", "share": "10", "condition": "contract"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert errors(page, "form") == [
        "Payment milestones are fixed once the partnership is contracted."
    ]
    assert BANNER not in page
    assert _milestones(p) == before


def test_a_good_milestone_is_added(prospect, client, login_as):
    login_as("coordinator")
    response = client.post(
        f"/influencers/partnerships/{prospect.id}/milestones",
        data={"label": "Bonus", "share": "12.5", "condition": "contract"},
    )
    assert response.status_code == 302
    assert ("Bonus", 1250) in _milestones(prospect)
    assert "Milestone added." in client.get(response.location).get_data(as_text=True)


# --- paying ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("paid_on", "reference", "field", "message"),
    [
        ("01/02/2026", "TRX-1", "paid_on", "Enter the payment date like 2026-03-01."),
        ("", "TRX-1", "paid_on", "Enter the payment date (today or earlier)."),
        ("tomorrow", "TRX-1", "paid_on", "Enter the payment date like 2026-03-01."),
        (None, "TRX-1", "paid_on", "Enter the payment date (today or earlier)."),
        (
            date.today().isoformat(),
            " ",
            "reference",
            "Enter the payment reference (invoice or transfer id).",
        ),
    ],
)
def test_a_refused_payment_is_shown_in_its_row(
    deal, client, login_as, paid_on, reference, field, message
):
    p, _ = deal
    payable = p.milestones[0]
    if paid_on is None:  # a future date
        paid_on = (date.today() + timedelta(days=1)).isoformat()
    login_as("coordinator")
    response = client.post(
        f"/influencers/milestones/{payable.id}/pay",
        data={"paid_on": paid_on, "reference": reference},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    row = re.search(rf'<tr data-milestone="{payable.id}">.*?</tr>', page, re.S).group(0)
    assert errors(row, field) == [message]
    assert value_of(row, "paid_on") == paid_on
    assert value_of(row, "reference") == reference
    other = re.search(rf'<tr data-milestone="{p.milestones[1].id}">.*?</tr>', page, re.S).group(0)
    assert 'class="error"' not in other
    assert BANNER not in page
    db.session.expire_all()
    assert db.session.get(PaymentMilestone, payable.id).status == "payable"


def test_a_payment_is_recorded(deal, client, login_as):
    p, _ = deal
    payable = p.milestones[0]
    login_as("coordinator")
    response = client.post(
        f"/influencers/milestones/{payable.id}/pay",
        data={"paid_on": date.today().isoformat(), "reference": "TRX-9"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    paid = db.session.get(PaymentMilestone, payable.id)
    assert (paid.status, paid.reference) == ("paid", "TRX-9")
