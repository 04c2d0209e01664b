"""Partnership and deliverable workflows: allowed transitions only, who takes which step,
the budget guard rail, proof of post, payment gating, per-role allow-lists, IDOR and CSRF."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from core.extensions import db
from core.money import Money
from influencers import partnerships as deals
from influencers import payments, workflow
from influencers.models import Deliverable, Partnership, PaymentMilestone
from influencers.services import InfluencerError
from tests import factories
from tests.conftest import login, make_app
from tests.matrix_influencers import make_deliverable, make_influencer, make_partnership


def fresh(obj):
    db.session.expire_all()
    return db.session.get(type(obj), obj.id)


@pytest.fixture
def prospect(users, campaign):
    p = make_partnership(make_influencer("Cara Cooks"), campaign, users["coordinator"])
    db.session.commit()
    return p


# --- partnership status and the commitment guard rail ---------------------------------------


def test_only_allowed_partnership_transitions(prospect, allocation):
    allocation({"EUR": "5000"})
    with pytest.raises(InfluencerError, match="cannot become active"):
        deals.transition(prospect, "active")
    with pytest.raises(InfluencerError, match="not a partnership status"):
        deals.transition(prospect, "signed")
    for step in ("negotiating", "contracted", "active", "completed"):
        deals.transition(prospect, step)
    assert prospect.status == "completed" and prospect.contracted_at is not None
    with pytest.raises(InfluencerError, match="allowed: none"):
        deals.transition(prospect, "cancelled")


def test_contracting_needs_an_approved_allocation(prospect, allocation, client, login_as):
    allocation({})
    login_as("coordinator")
    deals.transition(prospect, "negotiating")
    db.session.commit()
    response = client.post(
        f"/influencers/partnerships/{prospect.id}/status", data={"to": "contracted"}
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Finance must approve an influencer allocation for “Spring Launch”" in page
    assert fresh(prospect).status == "negotiating"


def test_contracting_beyond_the_allocation_is_refused(users, campaign, allocation):
    allocation({"EUR": "1500"})
    first = make_partnership(make_influencer("A"), campaign, users["coordinator"], "negotiating")
    second = make_partnership(make_influencer("B"), campaign, users["coordinator"], "negotiating")
    deals.transition(first, "contracted")  # EUR 1,000 of 1,500
    with pytest.raises(InfluencerError) as refused:
        deals.transition(second, "contracted")  # another 1,000: 2,000 > 1,500
    message = str(refused.value)
    assert "over the approved influencer allocation of €1,500.00" in message
    assert "€500.00 left" in message and "€2,000.00" in message
    assert second.status == "negotiating"
    second.fee = Money.of("500", "EUR")
    payments.resplit_milestones(second)
    deals.transition(second, "contracted")  # exactly the allocation: allowed
    assert [m.amount_minor for m in second.milestones] == [25_000, 25_000]


def test_fees_in_other_currencies_count_after_conversion(users, campaign, allocation, monkeypatch):
    allocation({"EUR": "2000"})
    usd = make_partnership(
        make_influencer("U"), campaign, users["coordinator"], "contracted", currency="USD"
    )
    eur = make_partnership(make_influencer("E"), campaign, users["coordinator"], "negotiating")
    monkeypatch.setattr("budgets.api.convert", lambda money, to, on: None)
    with pytest.raises(InfluencerError, match="No USD→EUR exchange rate"):
        deals.transition(eur, "contracted")
    monkeypatch.setattr(
        "budgets.api.convert",
        lambda money, to, on: Money(money.minor * 2, to),  # 1 USD = 2 EUR, for the sum
    )
    with pytest.raises(InfluencerError, match="over the approved"):
        deals.transition(eur, "contracted")  # 2,000 (converted) + 1,000 > 2,000
    assert usd.status == "contracted"


def test_milestones_must_cover_the_fee_before_contracting(users, campaign, allocation):
    allocation({"EUR": "5000"})
    p = make_partnership(make_influencer("M"), campaign, users["coordinator"], plan="custom")
    payments.add_milestone(p, "Deposit", 3000, "contract", None)
    deals.transition(p, "negotiating")
    with pytest.raises(InfluencerError, match="cover 30 % of the fee"):
        deals.transition(p, "contracted")
    with pytest.raises(InfluencerError, match="more than 100 %"):
        payments.add_milestone(p, "Too much", 7001, "contract", None)
    payments.add_milestone(p, "Rest", 7000, "all_deliverables", None)
    deals.transition(p, "contracted")
    assert sum(m.amount_minor for m in p.milestones) == p.fee_minor
    with pytest.raises(InfluencerError, match="fixed once the partnership is contracted"):
        payments.add_milestone(p, "Bonus", 100, "contract", None)


def test_split_is_exact_for_awkward_fees():
    assert payments.split(100_001, [3333, 3333, 3334]) == [33_330, 33_330, 33_341]
    assert sum(payments.split(99, [5000, 5000])) == 99
    assert payments.split(1000, [5000]) == [500]  # an incomplete plan does not invent money


def test_a_contracted_fee_is_locked(deal):
    p, _ = deal
    with pytest.raises(InfluencerError, match="cannot change now"):
        deals.apply_terms(p, {"fee": Money.of("2000", "EUR")}, "coordinator")
    deals.apply_terms(p, {"fee": Money.of("1000", "EUR"), "notes": "ok"}, "coordinator")
    assert p.notes == "ok"


# --- deliverable steps and roles ------------------------------------------------------------


def step(client, d, to, **data):
    """The page after the step: the deliverable again, or (400) the refusal beside the form."""
    response = client.post(f"/influencers/deliverables/{d.id}/step", data={"to": to, **data})
    if response.status_code == 400:
        return response.get_data(as_text=True)
    assert response.status_code == 302, response.status_code
    return client.get(response.headers["Location"]).get_data(as_text=True)


def test_who_may_take_which_step(app, deal, users):
    _, d = deal
    coordinator, marketer = app.test_client(), app.test_client()
    login(coordinator, users["coordinator"])
    login(marketer, users["marketer"])
    page = step(marketer, d, "draft_submitted", content_url="https://drive.example.com/x")
    assert "is for an influencer coordinator" in page and fresh(d).status == "planned"
    step(coordinator, d, "draft_submitted", content_url="https://drive.example.com/x")
    assert fresh(d).status == "draft_submitted"
    page = step(coordinator, d, "approved")
    assert "is for a marketer" in page and fresh(d).status == "draft_submitted"
    page = step(marketer, d, "changes_requested")
    assert "Say what should change" in page
    step(marketer, d, "changes_requested", reviewer_comments="Show the logo earlier")
    assert fresh(d).reviewer_comments == "Show the logo earlier"
    step(coordinator, d, "draft_submitted", content_url="https://drive.example.com/v2")
    step(marketer, d, "approved", reviewer_comments="Great")
    assert fresh(d).status == "approved" and fresh(d).approved_by_id == users["marketer"].id
    page = step(coordinator, d, "verified")
    assert "cannot become verified" in page  # published first
    step(coordinator, d, "published", published_on=date.today().isoformat())
    step(coordinator, d, "published", proof_url="https://www.instagram.com/p/abc/")  # the proof
    page = step(marketer, d, "verified")
    assert "is for an influencer coordinator" in page and fresh(d).status == "published"
    # Whoever gave the proof does not verify it; another coordinator does.
    page = step(coordinator, d, "verified")
    assert "You submitted this proof of post" in page and fresh(d).status == "published"
    colleague = factories.UserFactory(role="coordinator")
    db.session.commit()
    second = app.test_client()
    login(second, colleague)
    step(second, d, "verified")
    assert fresh(d).status == "verified" and fresh(d).verified_by_id == colleague.id
    for role in ("finance", "viewer"):
        other = app.test_client()
        login(other, users[role])
        response = other.post(f"/influencers/deliverables/{d.id}/step", data={"to": "approved"})
        assert response.status_code == 403


@pytest.mark.parametrize(
    ("platform", "url", "ok"),
    [
        ("instagram", "https://www.instagram.com/reel/C0ffee/", True),
        ("instagram", "http://instagram.com/p/1", False),  # https only
        ("instagram", "https://www.tiktok.com/@anna/video/1", False),
        ("instagram", "https://instagram.com.evil.example/p/1", False),
        ("instagram", "https://evilinstagram.com/p/1", False),
        ("instagram", "javascript:alert(1)//instagram.com", False),
        ("instagram", "ftp://instagram.com/p/1", False),
        ("instagram", "https://user:pw@instagram.com/p/1", False),
        ("instagram", "instagram.com/p/1", False),
        ("youtube", "https://youtu.be/dQw4w9WgXcQ", True),
        ("youtube", "https://m.youtube.com/watch?v=x", True),
        ("x", "https://twitter.com/anna/status/1", True),
        ("tiktok", "https://vm.tiktok.com/ZMabc/", True),
        ("blog", "https://annaruns.example/2026/shoes", True),
        ("blog", "https://other-blog.example/post", False),
    ],
)
def test_proof_of_post_must_be_on_the_platform(users, campaign, platform, url, ok):
    influencer = make_influencer(
        "Anna", handles=[("instagram", "anna", 1, None), ("blog", "annaruns.example", 1, None)]
    )
    p = make_partnership(influencer, campaign, users["coordinator"], "active")
    d = make_deliverable(p, status="published", platform=platform)
    if ok:
        workflow.move(d, "published", {"proof_url": url}, users["coordinator"])
        assert d.proof_url == url and d.proof_submitted_by_id == users["coordinator"].id
    else:
        with pytest.raises(InfluencerError) as refused:
            workflow.move(d, "published", {"proof_url": url}, users["coordinator"])
        assert refused.value.field == "proof_url"
        assert d.proof_url == ""


def test_deliverables_wait_for_a_contract(users, prospect):
    d = make_deliverable(prospect)
    with pytest.raises(InfluencerError, match="once it is contracted"):
        workflow.move(d, "draft_submitted", {"content_url": "https://x.example"}, users["admin"])


# --- payments -------------------------------------------------------------------------------


def test_a_gated_milestone_is_paid_only_after_verification(app, deal, users, client, login_as):
    p, d = deal
    on_contract, on_delivery = p.milestones
    assert (on_contract.status, on_delivery.status) == ("payable", "pending")
    login_as("coordinator")
    url = f"/influencers/milestones/{on_delivery.id}/pay"
    refused = client.post(url, data={"paid_on": date.today().isoformat(), "reference": "T-1"})
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert "cannot be paid yet: it is paid once every deliverable is verified" in page
    assert fresh(on_delivery).status == "pending"

    d = fresh(d)
    for to, values in (
        ("draft_submitted", {"content_url": "https://drive.example.com/x"}),
        ("approved", {}),
        ("published", {"published_on": date.today(), "proof_url": "https://instagram.com/p/1"}),
    ):
        workflow.move(d, to, values, users["admin"])
    assert fresh(on_delivery).status == "pending"  # published is not verified
    workflow.move(d, "verified", {}, users["admin"])  # an admin may verify their own proof
    db.session.commit()
    assert fresh(on_delivery).status == "payable"

    future = (date.today() + timedelta(days=1)).isoformat()
    client.post(url, data={"paid_on": future, "reference": "T-1"})
    assert fresh(on_delivery).status == "payable"
    client.post(url, data={"paid_on": date.today().isoformat(), "reference": ""})
    assert fresh(on_delivery).status == "payable"
    client.post(url, data={"paid_on": date.today().isoformat(), "reference": "TRX-42"})
    paid = fresh(on_delivery)
    assert (paid.status, paid.reference, paid.paid_on) == ("paid", "TRX-42", date.today())
    with pytest.raises(InfluencerError, match="Already marked paid by Coordinator Tester"):
        payments.pay(paid, date.today(), "again", users["coordinator"])


def test_a_milestone_on_one_deliverable(users, campaign):
    p = make_partnership(make_influencer("G"), campaign, users["coordinator"], plan="custom")
    first, second = make_deliverable(p), make_deliverable(p)
    with pytest.raises(InfluencerError, match="this partnership's deliverables"):
        payments.add_milestone(p, "Other", 1, "deliverable", 999_999)
    payments.add_milestone(p, "Reel 1", 5000, "deliverable", first.id)
    payments.add_milestone(p, "Reel 2", 5000, "deliverable", second.id)
    p.status = "active"
    first.status = "verified"
    payments.refresh_milestones(p)
    assert [m.status for m in p.milestones] == ["payable", "pending"]
    with pytest.raises(InfluencerError, match="is verified"):
        payments.pay(p.milestones[1], date.today(), "x", users["coordinator"])


def test_cancelling_keeps_paid_milestones_and_pends_the_rest(deal, users):
    p, _ = deal
    payments.pay(p.milestones[0], date.today(), "DEP", users["coordinator"])
    deals.transition(p, "cancelled")
    assert [m.status for m in p.milestones] == ["paid", "pending"]


# --- allow-lists, IDOR, CSRF, GET never changes anything ------------------------------------


def test_a_marketer_cannot_change_what_they_may_not(deal, client, login_as, users):
    p, d = deal
    login_as("marketer")
    response = client.post(
        f"/influencers/partnerships/{p.id}/edit",
        data={"fee": "1", "currency": "EUR", "notes": "mine now", "owner_id": users["marketer"].id},
    )
    assert response.status_code == 403
    response = client.post(f"/influencers/partnerships/{p.id}/status", data={"to": "cancelled"})
    assert response.status_code == 403
    workflow.move(
        fresh(d), "draft_submitted", {"content_url": "https://drive.example.com/x"}, users["admin"]
    )
    db.session.commit()
    # Approving is theirs; the rest of what they post is ignored.
    step(
        client,
        d,
        "approved",
        reviewer_comments="Fine",
        proof_url="https://instagram.com/p/fake",
        status="verified",
        due_date="2000-01-01",
        fee="1",
        published_on="2020-01-01",
        content_url="https://evil.example",
    )
    after, partnership = fresh(d), fresh(p)
    assert after.status == "approved" and after.reviewer_comments == "Fine"
    assert after.proof_url == "" and after.published_on is None
    assert after.content_url == "https://drive.example.com/x"
    assert after.due_date == d.due_date
    assert (partnership.fee_minor, partnership.notes, partnership.status) == (
        100_000,
        "",
        "contracted",
    )


def test_coordinators_cannot_reassign_owners_admins_can(deal, client, login_as, users):
    p, _ = deal
    form = {"fee": "1000", "currency": "EUR", "plan": "half_half", "notes": "n"}
    login_as("coordinator")
    client.post(
        f"/influencers/partnerships/{p.id}/edit", data=form | {"owner_id": users["admin"].id}
    )
    assert fresh(p).owner_id == users["coordinator"].id and fresh(p).notes == "n"
    admin = client.application.test_client()
    login(admin, users["admin"])
    admin.post(
        f"/influencers/partnerships/{p.id}/edit", data=form | {"owner_id": users["admin"].id}
    )
    assert fresh(p).owner_id == users["admin"].id


def test_missing_and_absurd_ids(client, login_as):
    login_as("coordinator")
    for path in (
        "/influencers/999999",
        "/influencers/partnerships/999999",
        "/influencers/deliverables/999999",
        "/influencers/import/999999",
        "/influencers/campaigns/999999/pipeline",
        "/influencers/partnerships/99999999999999999999",
    ):
        assert client.get(path).status_code == 404, path
    assert client.post("/influencers/milestones/999999/pay").status_code == 404


def test_state_changes_are_post_only(deal, client, login_as):
    p, d = deal
    login_as("coordinator")
    for path in (
        f"/influencers/partnerships/{p.id}/status?to=cancelled",
        f"/influencers/deliverables/{d.id}/step?to=draft_submitted",
        f"/influencers/milestones/{p.milestones[0].id}/pay",
        f"/influencers/partnerships/{p.id}/promo-code",
    ):
        assert client.get(path).status_code == 405, path
    assert fresh(p).status == "contracted"


def test_every_state_change_needs_the_csrf_token(database_url, deal, users):
    csrf_app = make_app(database_url, WTF_CSRF_ENABLED=True)
    p, d = deal
    m = p.milestones[0]
    client = csrf_app.test_client()
    try:
        page = client.get("/login").get_data(as_text=True)
        token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        signed_in = client.post(
            "/login",
            data={"email": users["coordinator"].email, "password": "correct horse battery staple"}
            | {"csrf_token": token},
        )
        assert signed_in.status_code == 302
        posts = {
            f"/influencers/partnerships/{p.id}/status": {"to": "cancelled"},
            f"/influencers/partnerships/{p.id}/promo-code": {"code": "STOLEN"},
            f"/influencers/partnerships/{p.id}/edit": {"fee": "1", "currency": "EUR"},
            f"/influencers/milestones/{m.id}/pay": {"paid_on": "2026-01-01", "reference": "x"},
            f"/influencers/deliverables/{d.id}/step": {"to": "draft_submitted"},
            f"/influencers/deliverables/{d.id}/metrics": {"impressions": "5"},
            "/influencers/new": {"name": "X", "instagram_handle": "x"},
        }
        for path, data in posts.items():
            assert client.post(path, data=data).status_code == 400, path
    finally:
        with csrf_app.app_context():
            db.engine.dispose()
    after = fresh(p)
    assert (after.status, after.promo_code, after.fee_minor) == ("contracted", None, 100_000)
    assert fresh(m).status == "payable" and fresh(d).impressions is None
    assert db.session.query(Partnership).count() == 1
    assert db.session.query(PaymentMilestone).filter_by(status="paid").count() == 0
    assert db.session.query(Deliverable).filter_by(status="planned").count() == 1


HOSTILE = [
    "",
    "1e400",
    "-1",
    "99999999999999999999999",
    "x" * 5000,
    "'; DROP TABLE influencers; --",
    "<script>alert(1)</script>",
    "javascript:alert(1)",
    "١٢٣",  # Arabic-Indic digits
    "NaN",
    "Infinity",
]


def test_hostile_input_never_breaks_a_page(deal, client, login_as):
    p, d = deal
    m = p.milestones[0]
    login_as("admin")
    posts = {
        "/influencers/new": ("name", "instagram_handle", "blog_handle", "instagram_followers"),
        f"/influencers/partnerships/{p.id}/edit": ("fee", "exclusivity_days", "owner_id"),
        f"/influencers/partnerships/{p.id}/status": ("to",),
        f"/influencers/partnerships/{p.id}/promo-code": ("code",),
        f"/influencers/partnerships/{p.id}/milestones": ("share", "label", "deliverable_id"),
        f"/influencers/milestones/{m.id}/pay": ("paid_on", "reference"),
        f"/influencers/deliverables/{d.id}/step": ("to", "content_url", "proof_url"),
        f"/influencers/deliverables/{d.id}/metrics": ("impressions", "revenue"),
        f"/influencers/deliverables/{d.id}/tracking": ("landing_url", "utm_source"),
        "/influencers/partnerships/new": ("influencer_id", "campaign_id", "fee"),
    }
    for path, fields in posts.items():
        for value in HOSTILE:
            data = dict.fromkeys(fields, value) | {"currency": "EUR", "condition": "contract"}
            response = client.post(path, data=data)
            assert response.status_code < 500, (path, value[:20], response.status_code)
    for value in HOSTILE:
        for name in ("q", "min_followers", "min_engagement", "country", "page", "sort", "niche"):
            response = client.get("/influencers/", query_string={name: value})
            assert response.status_code < 500, (name, value[:20])
        for path in ("/influencers/partnerships", "/influencers/payments", "/influencers/roi"):
            response = client.get(path, query_string={"status": value, "campaign": value})
            assert response.status_code < 500, (path, value[:20])
    after = fresh(p)
    assert (after.fee_minor, after.status) == (100_000, "contracted")
