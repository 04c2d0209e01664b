"""Budget pages: per-role field allow-lists, no IDOR, CSRF on every state change, no-store,
line visibility per role, the forms' messages, notifications, the influencer allocation API."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import func, select

from budgets import api
from budgets.models import AllocationLine, Budget, Notification
from core.extensions import db
from core.money import Money
from tests.budgets.factories import BudgetFactory, CampaignFactory, LineFactory, UserFactory
from tests.conftest import PASSWORD, login, make_app


@pytest.fixture
def budget(users):
    made = BudgetFactory(owner=users["finance"], name="Q budget", total_minor=5_000_000)
    db.session.commit()
    return made


@pytest.fixture
def lines(users, budget):
    mine = CampaignFactory(
        owner=users["marketer"], name="Mine", channels_csv=",meta_ads,influencers,"
    )
    theirs = CampaignFactory(owner=UserFactory(role="marketer"), name="Theirs")
    made = {
        "mine_meta": LineFactory(
            budget=budget,
            campaign=mine,
            channel="meta_ads",
            requested_by=users["marketer"],
            planned_minor=111_100,
        ),
        "mine_infl": LineFactory(
            budget=budget,
            campaign=mine,
            channel="influencers",
            requested_by=users["marketer"],
            planned_minor=222_200,
            status="submitted",
        ),
        "theirs": LineFactory(
            budget=budget,
            campaign=theirs,
            channel="meta_ads",
            planned_minor=333_300,
            status="approved",
        ),
    }
    db.session.commit()
    return made


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def errors(response) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name, msg in re.findall(r'data-error-for="([^"]+)">(.*?)</p>', text(response), re.S):
        found.setdefault(name, []).append(msg)
    return found


def fresh(obj):
    db.session.expire_all()
    return db.session.get(type(obj), obj.id)


def test_finance_creates_a_budget_and_field_errors_show(client, login_as):
    login_as("finance")
    bad = client.post(
        "/budgets/new",
        data={
            "name": "Q4",
            "period": "2026-Q5",
            "currency": "EUR",
            "total": "10",
            "under_pct": "85",
            "over_pct": "115",
        },
    )
    assert bad.status_code == 400 and "is not a period" in errors(bad)["period"][0]
    ok = client.post(
        "/budgets/new",
        data={
            "name": "Q4 EMEA",
            "period": "2026-q4",
            "currency": "EUR",
            "total": "250,000.00",
            "under_pct": "80",
            "over_pct": "120",
            "status": "closed",
            "owner_id": "999",
        },
    )
    assert ok.status_code == 302
    created = db.session.scalar(select(Budget).where(Budget.name == "Q4 EMEA"))
    assert (created.period, created.total_minor, created.status, created.under_pct) == (
        "2026-Q4",
        25_000_000,
        "open",
        80,
    )


def test_finance_edit_allow_list_ignores_status_and_owner(client, login_as, users, budget):
    login_as("finance")
    response = client.post(
        f"/budgets/{budget.id}/edit",
        data={
            "name": "Renamed",
            "period": budget.period,
            "currency": "EUR",
            "total": "60000",
            "under_pct": "85",
            "over_pct": "115",
            "status": "closed",
            "owner_id": str(users["admin"].id),
            "comment": "More money",
        },
    )
    assert response.status_code == 302
    budget = fresh(budget)
    assert (budget.name, budget.total_minor, budget.status, budget.owner_id) == (
        "Renamed",
        6_000_000,
        "open",
        users["finance"].id,
    )


@pytest.mark.parametrize("role", ["coordinator", "viewer", "admin"])
def test_roles_that_may_not_edit_change_nothing(client, login_as, budget, lines, role):
    login_as(role)
    line = lines["mine_meta"]
    posts = [
        (f"/budgets/{budget.id}/edit", {"total": "1", "status": "closed"}),
        (f"/budgets/lines/{line.id}/edit", {"planned": "999999", "status": "approved"}),
        (
            f"/budgets/{budget.id}/lines/new",
            {"campaign_id": str(line.campaign_id), "channel": "other", "planned": "1"},
        ),
        (f"/budgets/lines/{lines['mine_infl'].id}/approve", {}),
        (f"/budgets/{budget.id}/close", {}),
    ]
    for path, data in posts:
        assert client.post(path, data=data).status_code == 403, path
    assert fresh(budget).total_minor == 5_000_000
    assert (fresh(line).planned_minor, fresh(line).status) == (111_100, "draft")
    assert fresh(lines["mine_infl"]).status == "submitted"
    assert db.session.scalar(select(func.count(AllocationLine.id))) == 3


def test_marketer_edit_ignores_status_and_requester(client, login_as, users, lines):
    login_as("marketer")
    line = lines["mine_meta"]
    response = client.post(
        f"/budgets/lines/{line.id}/edit",
        data={
            "campaign_id": str(line.campaign_id),
            "channel": "meta_ads",
            "planned": "1500",
            "note": "n",
            "status": "approved",
            "requested_by_id": str(users["admin"].id),
            "decided_by_id": str(users["marketer"].id),
        },
    )
    assert response.status_code == 302
    line = fresh(line)
    assert (line.planned_minor, line.status, line.requested_by_id, line.decided_by_id) == (
        150_000,
        "draft",
        users["marketer"].id,
        None,
    )


def test_no_idor_on_lines_of_someone_elses_campaign(client, login_as, lines, budget):
    login_as("marketer")
    theirs = lines["theirs"]
    for path in (f"/budgets/lines/{theirs.id}/edit", f"/budgets/lines/{theirs.id}/phasing"):
        assert client.get(path).status_code == 403, path
    for action in ("submit", "withdraw"):
        assert client.post(f"/budgets/lines/{theirs.id}/{action}").status_code == 403
    assert client.get("/budgets/lines/999999/edit").status_code == 404
    assert client.get("/budgets/lines/99999999999/edit").status_code == 404
    assert fresh(theirs).status == "approved"


def test_marketer_sees_only_lines_of_their_campaigns(client, login_as, budget, lines):
    login_as("marketer")
    page = text(client.get(f"/budgets/{budget.id}"))
    assert f'data-line="{lines["mine_meta"].id}"' in page
    assert f'data-line="{lines["theirs"].id}"' not in page and "Theirs" not in page


def test_coordinator_sees_influencer_lines_only(client, login_as, budget, lines):
    login_as("coordinator")
    page = text(client.get(f"/budgets/{budget.id}"))
    assert re.findall(r'data-line="(\d+)"', page) == [str(lines["mine_infl"].id)]
    assert "Request allocation" not in page and "Download" not in page


def test_finance_sees_every_line_and_decides(client, login_as, budget, lines):
    login_as("finance")
    page = text(client.get(f"/budgets/{budget.id}"))
    assert len(re.findall(r'data-line="\d+"', page)) == 3
    line = lines["mine_infl"]
    refused = client.post(
        f"/budgets/lines/{line.id}/reject", data={"comment": ""}, follow_redirects=True
    )
    assert "Give a reason" in text(refused) and fresh(line).status == "submitted"
    client.post(f"/budgets/lines/{line.id}/reject", data={"comment": "Not now"})
    assert (fresh(line).status, fresh(line).decision_comment) == ("rejected", "Not now")


def test_finance_self_approval_is_refused_with_a_message(client, login_as, users, budget):
    finance = login_as("finance")
    campaign = CampaignFactory(owner=users["marketer"])
    line = LineFactory(budget=budget, campaign=campaign, requested_by=finance, status="submitted")
    db.session.commit()
    page = client.post(f"/budgets/lines/{line.id}/approve", follow_redirects=True)
    assert "someone else in finance must decide" in text(page)
    assert fresh(line).status == "submitted"


def test_marketer_requests_and_gets_notified(app, client, login_as, users, budget):
    login_as("marketer")
    campaign = CampaignFactory(owner=users["marketer"], name="Boots")
    db.session.commit()
    form = client.get(f"/budgets/{budget.id}/lines/new")
    assert "Boots" in text(form)
    too_much = client.post(
        f"/budgets/{budget.id}/lines/new",
        data={
            "campaign_id": str(campaign.id),
            "channel": "meta_ads",
            "planned": "10000.01",
            "action": "submit",
        },
    )
    assert too_much.status_code == 400
    assert "above its planned budget" in errors(too_much)["planned"][0]
    response = client.post(
        f"/budgets/{budget.id}/lines/new",
        data={
            "campaign_id": str(campaign.id),
            "channel": "meta_ads",
            "planned": "2500",
            "note": "Launch burst",
            "action": "submit",
        },
    )
    assert response.status_code == 302
    line = db.session.scalar(
        select(AllocationLine).where(AllocationLine.campaign_id == campaign.id)
    )
    assert (line.status, line.planned_minor) == ("submitted", 250_000)
    finance = app.test_client()
    login(finance, users["finance"])
    assert '<span class="badge"' in text(finance.get("/budgets/"))
    finance.post(f"/budgets/lines/{line.id}/approve", data={"comment": "Go"})
    notices = text(client.get("/budgets/approvals"))
    assert "Approved: €2,500.00 for “Boots” × Meta Ads — “Go”" in notices
    client.post("/budgets/notifications/read")
    assert (
        db.session.scalar(
            select(func.count(Notification.id)).where(
                Notification.user_id == users["marketer"].id, Notification.read_at.is_(None)
            )
        )
        == 0
    )


def test_finance_pages_are_not_cached(client, login_as, budget):
    login_as("finance")
    for path in (
        "/budgets/",
        f"/budgets/{budget.id}",
        "/budgets/finance/",
        "/budgets/fx/",
        f"/budgets/{budget.id}/export?format=csv",
        f"/budgets/{budget.id}/export?format=xlsx",
    ):
        response = client.get(path)
        response.close()  # a download streams from a temporary file
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "no-store", path


def test_downloads(client, login_as, budget, lines):
    login_as("finance")
    csv = client.get(f"/budgets/{budget.id}/export?format=csv")
    assert csv.mimetype == "text/csv" and "attachment" in csv.headers["Content-Disposition"]
    assert csv.get_data(as_text=True).startswith("budget_id,budget,period")
    xlsx = client.get(f"/budgets/finance/export?period={budget.period}&format=xlsx")
    assert xlsx.data[:2] == b"PK"
    xlsx.close()
    assert client.get(f"/budgets/{budget.id}/export?format=pdf").status_code == 404
    back = client.get("/budgets/finance/export?period=nope&format=csv", follow_redirects=True)
    assert "is not a period" in text(back)


@pytest.fixture
def csrf_client(database_url, users):
    application = make_app(database_url, WTF_CSRF_ENABLED=True)
    yield application.test_client()
    with application.app_context():
        db.engine.dispose()


def test_state_changes_need_a_csrf_token(csrf_client, users, budget, lines):
    page = csrf_client.get("/login")
    token = re.search(r'name="csrf_token"[^>]*?value="([^"]+)"', page.get_data(as_text=True))
    csrf_client.post(
        "/login",
        data={"email": users["finance"].email, "password": PASSWORD, "csrf_token": token.group(1)},
    )
    line = lines["mine_infl"]
    posts = [
        f"/budgets/lines/{line.id}/approve",
        f"/budgets/{budget.id}/close",
        "/budgets/fx/",
        "/budgets/notifications/read",
        f"/budgets/{budget.id}/edit",
    ]
    for path in posts:
        response = csrf_client.post(path, data={"total": "1", "rate": "1"})
        assert response.status_code == 400 and "Form expired" in text(response), path
    assert fresh(line).status == "submitted" and fresh(budget).total_minor == 5_000_000
    detail = csrf_client.get(f"/budgets/{budget.id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*?value="([^"]+)"', detail).group(1)
    ok = csrf_client.post(f"/budgets/lines/{line.id}/approve", data={"csrf_token": token})
    assert ok.status_code == 302 and fresh(line).status == "approved"


def test_gets_change_nothing(client, login_as, budget, lines):
    login_as("finance")
    line = lines["mine_infl"]
    for path in (
        f"/budgets/lines/{line.id}/approve",
        f"/budgets/{budget.id}/close",
        "/budgets/notifications/read",
    ):
        assert client.get(path).status_code == 405
    assert fresh(line).status == "submitted"


def test_influencer_allocation_api(users, budget):
    campaign = CampaignFactory(owner=users["marketer"])
    assert api.influencer_allocation(campaign.id, "EUR") is None
    LineFactory(
        budget=budget,
        campaign=campaign,
        channel="influencers",
        planned_minor=700_000,
        status="submitted",
    )
    assert api.influencer_allocation(campaign.id, "EUR") is None  # not approved yet
    LineFactory(
        budget=BudgetFactory(owner=users["finance"], period="2099-01", name="later"),
        campaign=campaign,
        channel="influencers",
        planned_minor=1,
        status="locked",
    )
    assert api.influencer_allocation(campaign.id, "EUR") == Money(1, "EUR")
    db.session.execute(AllocationLine.__table__.update().values(status="approved"))
    assert api.influencer_allocation(campaign.id, "EUR") == Money(700_001, "EUR")
    assert api.influencer_allocation(campaign.id, "USD") is None  # no rate to convert with
