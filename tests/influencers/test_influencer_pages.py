"""The coordinator dashboard, overdue flags wherever a deliverable shows, the campaign calendar,
roster search and pages, the pipeline, and the demo seed."""

from __future__ import annotations

import re
from datetime import date, timedelta
from html import unescape

from sqlalchemy import func, select

from core.extensions import db
from influencers.models import Deliverable, Influencer, Partnership, PaymentMilestone
from tests.conftest import login
from tests.matrix_influencers import make_deliverable, make_influencer, make_partnership

TODAY = date.today()


def section(page: str, ident: str) -> str:
    match = re.search(rf'id="{ident}"(.*?)</section>', page, re.S)
    assert match, ident
    return match[1]


def test_dashboard_buckets_and_overdue_everywhere(users, campaign, client, login_as):
    coordinator = users["coordinator"]
    p = make_partnership(make_influencer("Anna Runs"), campaign, coordinator, "active")
    late = make_deliverable(p, due=TODAY - timedelta(days=2))
    soon = make_deliverable(p, due=TODAY + timedelta(days=6))
    later = make_deliverable(p, due=TODAY + timedelta(days=7))
    draft = make_deliverable(p, status="draft_submitted", due=TODAY + timedelta(days=20))
    approved = make_deliverable(p, status="approved", due=TODAY + timedelta(days=30))
    posted = make_deliverable(p, status="published", due=TODAY - timedelta(days=5))
    cancelled = make_partnership(make_influencer("Gone"), campaign, coordinator, "cancelled")
    make_deliverable(cancelled, due=TODAY - timedelta(days=3))
    db.session.commit()
    login_as("coordinator")
    page = client.get("/influencers/dashboard").get_data(as_text=True)

    def ids(ident: str) -> set[int]:
        found = re.findall(r"/influencers/deliverables/(\d+)", section(page, ident))
        return {int(i) for i in found}

    assert ids("overdue") == {late.id}  # published is done; cancelled deals drop out
    assert ids("due_this_week") == {soon.id}
    assert later.id not in ids("due_this_week")
    assert ids("awaiting_approval") == {draft.id}
    assert ids("awaiting_proof") == {approved.id, posted.id}
    assert 'data-count="overdue">1<' in page
    assert 'class="is-overdue"' in section(page, "overdue")
    assert section(page, "payable").count("50% on contract") == 1

    flagged = 'class="overdue-flag"'
    assert flagged in client.get(f"/influencers/partnerships/{p.id}").get_data(as_text=True)
    assert flagged in client.get(f"/influencers/deliverables/{late.id}").get_data(as_text=True)
    pipeline = client.get(f"/influencers/campaigns/{campaign.id}/pipeline").get_data(as_text=True)
    assert "1 overdue" in pipeline
    listing = client.get("/influencers/partnerships").get_data(as_text=True)
    assert "1 overdue" in listing
    detail = client.get(f"/influencers/{p.influencer_id}").get_data(as_text=True)
    assert "1 overdue" in detail
    month = late.due_date.strftime("%Y-%m")
    calendar = client.get(f"/campaigns/calendar?month={month}").get_data(as_text=True)
    assert f'href="/influencers/deliverables/{late.id}"' in calendar
    assert "overdue-flag" in calendar and "⚠" in calendar


def test_calendar_lists_deliverables_due_that_month(deal, client, login_as):
    _, d = deal
    login_as("viewer")
    page = client.get(f"/campaigns/calendar?month={d.due_date:%Y-%m}").get_data(as_text=True)
    due = section(page + "</section>", "deliverables-due") if "deliverables-due" in page else ""
    assert "Anna Runs" in due and f"due {d.due_date:%d %b %Y}" in due
    other = (d.due_date.replace(day=1) + timedelta(days=40)).strftime("%Y-%m")
    assert "deliverables-due" not in client.get(f"/campaigns/calendar?month={other}").get_data(
        as_text=True
    )


def roster(client, **args) -> list[str]:
    page = client.get("/influencers/", query_string=args).get_data(as_text=True)
    table = re.search(r'<table class="table" id="roster">(.*?)</table>', page, re.S)
    if table is None:
        return []
    return [unescape(n) for n in re.findall(r'<a href="/influencers/\d+">(.*?)</a>', table[1])]


def test_roster_search_filters_sort_and_pages(client, login_as):
    make_influencer(
        "Anna Runs",
        handles=[("instagram", "anna", 12_000, 3), ("tiktok", "annat", 90_000, 8)],
        country="DE",
        niches_csv=",running,",
    )
    make_influencer(
        "Ben Lifts", handles=[("instagram", "ben", 50_000, 2)], country="FR", niches_csv=",gym,"
    )
    make_influencer(
        "Cara Cooks", handles=[("youtube", "caracooks", 400_000, 1)], country="DE", niches_csv=""
    )
    for n in range(30):
        make_influencer(
            f"Zed {n:02}", handles=[("x", f"zed{n}", n, None)], country="US", niches_csv=""
        )
    db.session.commit()
    login_as("viewer")
    assert roster(client, q="anna") == ["Anna Runs"]
    assert roster(client, q="caracoo") == ["Cara Cooks"]  # handles are searched too
    assert roster(client, platform="tiktok") == ["Anna Runs"]
    assert roster(client, niche="running") == ["Anna Runs"]
    assert roster(client, country="DE") == ["Anna Runs", "Cara Cooks"]
    # One handle must meet every condition: Anna's 90k followers are on TikTok.
    assert roster(client, platform="instagram", min_followers="20000") == ["Ben Lifts"]
    assert roster(client, min_followers="20,000", max_followers="100000") == [
        "Anna Runs",
        "Ben Lifts",
    ]
    assert roster(client, min_engagement="5") == ["Anna Runs"]
    assert roster(client, sort="followers", dir="desc", country="DE") == ["Cara Cooks", "Anna Runs"]
    first, second = roster(client, sort="name"), roster(client, sort="name", page="2")
    assert len(first) == 25 and len(second) == 8 and not set(first) & set(second)
    assert roster(client, min_followers="lots", page="999999999999") == []
    assert client.get("/influencers/?min_engagement=abc&sort=drop").status_code == 200


def test_profile_form_validates_and_saves(client, login_as):
    login_as("coordinator")
    make_influencer("Taken", handles=[("instagram", "taken", 1, None)])
    db.session.commit()
    form = {
        "name": "Dora Draws",
        "status": "active",
        "country": "de",
        "niches": "Art, drawing",
        "rate_currency": "EUR",
        "instagram_handle": "@Taken",
        "instagram_followers": "12k",
        "instagram_engagement": "3.5%",
        "tiktok_followers": "abc",
        "rate_post": "12.345",
    }
    response = client.post("/influencers/new", data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "already belongs to Taken" in page and "is not a number" in page
    form |= {"instagram_handle": "https://instagram.com/dora.draws", "tiktok_followers": ""}
    form["rate_post"] = "350"
    response = client.post("/influencers/new", data=form)
    assert response.status_code == 302
    dora = db.session.scalar(select(Influencer).where(Influencer.name == "Dora Draws"))
    assert dora.country == "DE" and dora.niches == ["art", "drawing"]
    handle = dora.handle_on("instagram")
    assert (handle.handle, handle.followers, str(handle.engagement_rate)) == (
        "dora.draws",
        12_000,
        "3.5000",
    )
    assert dora.rates[0].amount_minor == 35_000
    edit = client.get(f"/influencers/{dora.id}/edit").get_data(as_text=True)
    assert 'value="dora.draws"' in edit and 'value="350.00"' in edit


def test_an_empty_profile_lists_each_problem_once_beside_its_field(client, login_as):
    login_as("coordinator")
    response = client.post("/influencers/new", data={"status": "active", "rate_currency": "EUR"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    name_errors = re.findall(r'<p class="error"[^>]*data-error-for="name">([^<]*)</p>', page)
    assert name_errors == ["Enter the influencer&#39;s name."]
    assert "This field is required." not in page
    assert "Add at least one platform handle." in page


def test_new_partnership_through_the_form(users, campaign, client, login_as):
    influencer = make_influencer("Eve Paints")
    blocked = make_influencer("Nope", status="do_not_work_with")
    db.session.commit()
    login_as("coordinator")
    page = client.get(f"/influencers/partnerships/new?influencer_id={influencer.id}")
    assert "Eve Paints" in page.get_data(as_text=True)
    form = {
        "influencer_id": influencer.id,
        "campaign_id": campaign.id,
        "fee": "2,500.00",
        "currency": "EUR",
        "plan": "half_half",
        "exclusivity_days": "30",
        "owner_id": users["admin"].id,  # not theirs to choose: ignored
    }
    response = client.post("/influencers/partnerships/new", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    p = db.session.scalar(select(Partnership).where(Partnership.influencer_id == influencer.id))
    assert (p.status, p.fee_minor, p.owner_id) == ("prospect", 250_000, users["coordinator"].id)
    assert [m.amount_minor for m in p.milestones] == [125_000, 125_000]
    response = client.post("/influencers/partnerships/new", data=form | {"fee": "12,5"})
    assert response.status_code == 400 and "not a number" in response.get_data(as_text=True)
    response = client.post(
        "/influencers/partnerships/new", data=form | {"influencer_id": blocked.id}
    )
    assert "Nope is marked do-not-work-with" in response.get_data(as_text=True)
    response = client.post("/influencers/partnerships/new", data=form | {"campaign_id": 999999})
    assert response.status_code == 400
    assert "Choose an open campaign" in response.get_data(as_text=True)


def test_demo_seed_is_idempotent_and_complete(app, users):
    from core.demo import seed

    first = seed()
    db.session.commit()
    counts = {
        model: db.session.scalar(select(func.count()).select_from(model))
        for model in (Influencer, Partnership, Deliverable, PaymentMilestone)
    }
    second = seed()
    db.session.commit()
    assert second["partnerships created"] == 0 and second["orders attributed"] == 0
    for model, number in counts.items():
        assert db.session.scalar(select(func.count()).select_from(model)) == number
    assert first["influencers"] >= 40
    statuses = set(db.session.scalars(select(Partnership.status)))
    assert statuses == {"prospect", "negotiating", "contracted", "active", "completed", "cancelled"}
    assert set(db.session.scalars(select(PaymentMilestone.status))) == {
        "pending",
        "payable",
        "paid",
    }
    deliverables = db.session.scalars(select(Deliverable)).all()
    assert any(d.is_overdue for d in deliverables)
    assert any(d.status == "verified" for d in deliverables)
    assert any(TODAY <= d.due_date <= TODAY + timedelta(days=6) for d in deliverables)
    assert first["orders attributed"] > 100


def test_payments_page_lists_contracted_money_payable_first(users, campaign, client, login_as):
    coordinator = users["coordinator"]
    make_partnership(make_influencer("Prospect"), campaign, coordinator, "prospect")
    live = make_partnership(make_influencer("Live"), campaign, coordinator, "contracted")
    cancelled = make_partnership(make_influencer("Gone"), campaign, coordinator, "cancelled")
    late = make_deliverable(cancelled, due=TODAY - timedelta(days=9))
    db.session.commit()
    assert not late.is_overdue  # nobody chases a cancelled deal's posts
    login_as("finance")
    response = client.get("/influencers/payments")
    page = response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    assert "Prospect" not in page and "Gone" not in page
    table = page.split('id="payments"')[1]
    assert table.index("payable") < table.index("pending")
    assert f"/influencers/partnerships/{live.id}" in table
    viewer = client.application.test_client()
    login(viewer, users["viewer"])
    assert viewer.get("/influencers/payments").status_code == 403
