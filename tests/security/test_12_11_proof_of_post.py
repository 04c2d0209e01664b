"""Issue 12.11: a proof of post is verified by someone other than who submitted it (or by an
admin), and a proof is a public https link on the platform's own domain: no IP address in any
spelling, no localhost or local names, no private ranges, no user-info tricks."""

from __future__ import annotations

from datetime import date

import pytest

from core.extensions import db
from influencers import workflow
from influencers.models import Deliverable
from influencers.services import InfluencerError
from tests import factories
from tests.conftest import login
from tests.matrix_influencers import make_deliverable, make_influencer, make_partnership

GOOD = "https://www.instagram.com/p/C0ffee/"


@pytest.fixture
def approved(users):
    campaign = factories.CampaignFactory(owner=users["marketer"])
    influencer = make_influencer(
        "Anna",
        handles=[("instagram", "anna", 1000, None), ("blog", "127.0.0.1", 10, None)],
    )
    p = make_partnership(influencer, campaign, users["coordinator"], "active")
    d = make_deliverable(p, status="approved")
    db.session.commit()
    return d


def fresh(d: Deliverable) -> Deliverable:
    db.session.expire_all()
    return db.session.get(Deliverable, d.id)


def publish(d, user, proof=GOOD):
    workflow.move(d, "published", {"published_on": date.today(), "proof_url": proof}, user)
    db.session.commit()


def test_the_coordinator_who_gave_the_proof_cannot_verify_it(approved, users):
    publish(approved, users["coordinator"])
    with pytest.raises(InfluencerError, match="You submitted this proof of post"):
        workflow.move(approved, "verified", {}, users["coordinator"])
    db.session.rollback()
    assert fresh(approved).status == "published" and fresh(approved).verified_by_id is None


def test_another_coordinator_verifies(approved, users):
    publish(approved, users["coordinator"])
    colleague = factories.UserFactory(role="coordinator")
    workflow.move(approved, "verified", {}, colleague)
    db.session.commit()
    d = fresh(approved)
    assert d.status == "verified" and d.verified_by_id == colleague.id
    assert d.proof_submitted_by_id == users["coordinator"].id


def test_an_admin_may_verify_a_proof_they_gave(approved, users):
    publish(approved, users["admin"])
    workflow.move(approved, "verified", {}, users["admin"])
    assert approved.status == "verified"


def test_the_verify_step_takes_no_link_of_its_own(approved, users):
    """Typing a proof into the verify step used to verify one's own proof in one click."""
    workflow.move(approved, "published", {"published_on": date.today()}, users["coordinator"])
    colleague = factories.UserFactory(role="coordinator")
    with pytest.raises(InfluencerError, match="Save the proof-of-post link first"):
        workflow.move(approved, "verified", {"proof_url": GOOD}, colleague)


def test_on_the_page_the_submitter_sees_no_verify_button(app, approved, users):
    client = app.test_client()
    login(client, users["coordinator"])
    response = client.post(
        f"/influencers/deliverables/{approved.id}/step",
        data={"to": "published", "published_on": date.today().isoformat(), "proof_url": GOOD},
    )
    assert response.status_code == 302
    page = client.get(f"/influencers/deliverables/{approved.id}").get_data(as_text=True)
    assert "Verify proof of post" not in page
    assert "another coordinator or an admin verifies it" in page
    refused = client.post(f"/influencers/deliverables/{approved.id}/step", data={"to": "verified"})
    assert refused.status_code == 400
    assert "You submitted this proof of post" in refused.get_data(as_text=True)
    assert fresh(approved).status == "published"


@pytest.mark.parametrize(
    ("platform", "url"),
    [
        ("instagram", "http://www.instagram.com/p/1"),
        ("instagram", "https://instagram.com@127.0.0.1/p/1"),
        ("instagram", "https://evil.example\\@instagram.com/p/1"),
        ("instagram", "https://instagram.com:8443/p/1"),
        ("instagram", "https://127.0.0.1/p/1"),
        ("blog", "https://127.0.0.1/2026/post"),  # the influencer's blog handle is 127.0.0.1
        ("blog", "https://[::1]/post"),
        ("blog", "https://2130706433/post"),
        ("blog", "https://0x7f.1/post"),
        ("blog", "https://10.0.0.5/post"),
        ("blog", "https://192.168.1.20/post"),
        ("blog", "https://localhost/post"),
        ("blog", "https://wiki.corp.internal/post"),
    ],
)
def test_a_proof_must_be_a_public_https_link_on_the_platform(approved, users, platform, url):
    approved.platform = platform
    with pytest.raises(InfluencerError) as refused:
        publish(approved, users["coordinator"], proof=url)
    assert refused.value.field == "proof_url"
    db.session.rollback()
    assert fresh(approved).proof_url == ""


def test_a_blog_proof_is_accepted_on_a_public_blog_domain(approved, users):
    blog = approved.partnership.influencer.handle_on("blog")
    blog.handle = "annaruns.com"
    approved.platform = "blog"
    publish(approved, users["coordinator"], proof="https://www.annaruns.com/2026/shoes")
    assert fresh(approved).proof_url == "https://www.annaruns.com/2026/shoes"


def test_a_proof_stored_before_the_rules_cannot_be_verified(approved, users):
    approved.status = "published"
    approved.proof_url = "http://127.0.0.1:8080/admin"
    db.session.commit()
    with pytest.raises(InfluencerError, match="The saved proof cannot be verified"):
        workflow.move(approved, "verified", {}, users["admin"])
