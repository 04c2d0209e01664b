"""Campaigns: create, edit, the status workflow, read-only states and who may do what."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from html import unescape

import pytest
from sqlalchemy import func, select

from campaigns import services
from campaigns.models import Campaign, Goal
from core.extensions import db
from tests import factories
from tests.conftest import login

STATUSES = ("draft", "planned", "active", "paused", "completed", "archived")
# The workflow from the issue: draft → planned → active ⇄ paused → completed → archived, plus
# stepping a plan back to draft and shelving a draft or plan straight to the archive.
ALLOWED = {
    ("draft", "planned"),
    ("draft", "archived"),
    ("planned", "draft"),
    ("planned", "active"),
    ("planned", "archived"),
    ("active", "paused"),
    ("active", "completed"),
    ("paused", "active"),
    ("paused", "completed"),
    ("completed", "archived"),
}
READ_ONLY_ROLES = ("finance", "coordinator", "viewer")


def field_errors(response) -> dict[str, list[str]]:
    html = response.get_data(as_text=True)
    found: dict[str, list[str]] = {}
    for name, message in re.findall(r'data-error-for="([^"]+)">(.*?)</p>', html, re.S):
        found.setdefault(name, []).append(unescape(message))
    return found


def flashes(response) -> list[str]:
    html = response.get_data(as_text=True)
    return [unescape(m) for m in re.findall(r'class="flash[^"]*" role="status">(.*?)</div>', html)]


def campaign_data(**overrides) -> dict:
    data = {
        "name": "Autumn Boots Launch",
        "objective": "sales",
        "channels": ["meta_ads", "influencers"],
        "brand": "Stride",
        "product": "Boot X",
        "description": "Launch the new boot line.",
        "start_date": "2026-09-01",
        "end_date": "2026-10-31",
        "currency": "EUR",
        "planned_budget": "25,000.50",
    }
    data.update(overrides)
    return data


def edit_data(campaign: Campaign, **overrides) -> dict:
    data = campaign_data(
        name=campaign.name,
        objective=campaign.objective,
        channels=campaign.channels,
        brand=campaign.brand,
        product=campaign.product,
        description=campaign.description,
        start_date=campaign.start_date.isoformat(),
        end_date=campaign.end_date.isoformat(),
        currency=campaign.currency,
        planned_budget=str(campaign.planned_budget.amount),
    )
    data.update(overrides)
    return data


def count_campaigns() -> int:
    return db.session.scalar(select(func.count(Campaign.id)))


def reload(campaign: Campaign) -> Campaign:
    """Forget unsaved state (as the end of a request does) and read the row again."""
    db.session.rollback()
    return db.session.get(Campaign, campaign.id)


def make_campaign(owner, **overrides) -> Campaign:
    values = {
        "owner": owner,
        "name": "Spring Sale",
        "start_date": date(2026, 3, 1),
        "end_date": date(2026, 3, 31),
        "channels_csv": ",meta_ads,influencers,",
        "planned_budget_minor": 1_000_000,
    }
    values.update(overrides)
    campaign = factories.CampaignFactory(**values)
    db.session.commit()
    return campaign


def add_goal(campaign: Campaign, **overrides) -> Goal:
    goal = factories.GoalFactory(campaign=campaign, **overrides)
    db.session.commit()
    return goal


# --- create -------------------------------------------------------------------------------------


def test_marketer_creates_a_draft_campaign(client, login_as):
    marketer = login_as("marketer")
    response = client.post("/campaigns/new", data=campaign_data(), follow_redirects=True)
    assert response.status_code == 200
    assert "Campaign “Autumn Boots Launch” created as a draft. Add a SMART goal next." in flashes(
        response
    )
    db.session.rollback()
    campaign = db.session.scalars(select(Campaign)).one()
    assert campaign.planned_budget_minor == 2_500_050
    assert campaign.currency == "EUR"
    assert campaign.planned_budget.amount == Decimal("25000.50")
    assert campaign.status == "draft"
    assert campaign.owner_id == marketer.id
    assert campaign.channels == ["meta_ads", "influencers"]
    assert (campaign.start_date, campaign.end_date) == (date(2026, 9, 1), date(2026, 10, 31))
    assert (campaign.brand, campaign.product, campaign.objective) == ("Stride", "Boot X", "sales")
    assert "€25,000.50" in response.get_data(as_text=True)


BAD_INPUT = [
    pytest.param(
        {"currency": "JPY", "planned_budget": "1000.5"},
        "planned_budget",
        "JPY has 0 decimal places",
        id="jpy-with-decimals",
    ),
    pytest.param(
        {"planned_budget": "12.345"},
        "planned_budget",
        "EUR has 2 decimal places",
        id="eur-with-three-decimals",
    ),
    pytest.param(
        {"planned_budget": "lots"}, "planned_budget", "is not a number", id="not-a-number"
    ),
    pytest.param(
        {"planned_budget": "-5"},
        "planned_budget",
        "The planned budget cannot be negative.",
        id="negative",
    ),
    pytest.param({"planned_budget": "9" * 25}, "planned_budget", "", id="too-large-for-bigint"),
    pytest.param(
        {"start_date": "2026-10-31", "end_date": "2026-09-01"},
        "end_date",
        "The flight must end on or after its start date.",
        id="end-before-start",
    ),
    pytest.param({"end_date": ""}, "end_date", "Pick the flight end.", id="no-end"),
    pytest.param({"start_date": "31/12/2026"}, "start_date", "", id="bad-date"),
    pytest.param({"channels": []}, "channels", "Pick at least one channel.", id="no-channel"),
    pytest.param({"channels": ["myspace"]}, "channels", "", id="unknown-channel"),
    pytest.param({"name": ""}, "name", "", id="no-name"),
    pytest.param({"name": "x" * 161}, "name", "", id="name-too-long"),
    pytest.param({"objective": "world-domination"}, "objective", "", id="bad-objective"),
    pytest.param({"currency": "XXX"}, "currency", "", id="unlisted-currency"),
]


def test_create_refuses_bad_input_next_to_field(client, login_as, subtests):
    login_as("marketer")
    for case in BAD_INPUT:
        overrides, field, message = case.values
        with subtests.test(case.id):
            response = client.post("/campaigns/new", data=campaign_data(**overrides))
            assert response.status_code == 400
            errors = field_errors(response)
            assert field in errors, errors
            assert any(message in m for m in errors[field]), errors
            db.session.rollback()
            assert count_campaigns() == 0


def test_nul_characters_are_refused_not_a_500(client, login_as, subtests):
    login_as("marketer")
    for field in ("name", "brand", "product", "description", "planned_budget"):
        with subtests.test(field=field):
            response = client.post("/campaigns/new", data=campaign_data(**{field: "Boots\x00"}))
            assert response.status_code == 400
            assert "invisible NUL character" in response.get_data(as_text=True)
            db.session.rollback()
            assert count_campaigns() == 0


def test_flight_of_one_day_is_fine(client, login_as):
    login_as("marketer")
    data = campaign_data(start_date="2026-09-01", end_date="2026-09-01")
    assert client.post("/campaigns/new", data=data).status_code == 302
    db.session.rollback()
    assert count_campaigns() == 1


def test_marketer_cannot_mass_assign_owner_status_or_budget(client, login_as, users):
    marketer = login_as("marketer")
    data = campaign_data(
        owner_id=str(users["admin"].id),
        status="active",
        planned_budget_minor="1",
        status_changed_at="2020-01-01T00:00:00",
        id="777",
        channels_csv=",other,",
    )
    assert client.post("/campaigns/new", data=data).status_code == 302
    db.session.rollback()
    campaign = db.session.scalars(select(Campaign)).one()
    assert campaign.owner_id == marketer.id
    assert campaign.status == "draft"
    assert campaign.planned_budget_minor == 2_500_050
    assert campaign.status_changed_at is None
    assert campaign.id != 777
    assert campaign.channels == ["meta_ads", "influencers"]


def test_marketer_cannot_mass_assign_on_edit(client, login_as, users):
    marketer = login_as("marketer")
    campaign = make_campaign(marketer)
    data = edit_data(
        campaign, owner_id=str(users["admin"].id), status="completed", planned_budget_minor="1"
    )
    assert client.post(f"/campaigns/{campaign.id}/edit", data=data).status_code == 302
    campaign = reload(campaign)
    assert (campaign.owner_id, campaign.status) == (marketer.id, "draft")
    assert campaign.planned_budget_minor == 1_000_000


def test_service_allow_list_keeps_owner_status_and_raw_budget_out_of_reach(users):
    campaign = make_campaign(users["marketer"])
    posted = {
        "name": "Renamed",
        "owner_id": users["admin"].id,
        "status": "active",
        "planned_budget_minor": 1,
        "status_changed_at": None,
    }
    services.apply_campaign(campaign, posted, "marketer")
    assert campaign.name == "Renamed"
    assert (campaign.owner_id, campaign.status) == (users["marketer"].id, "draft")
    assert campaign.planned_budget_minor == 1_000_000
    for role in ("finance", "coordinator", "viewer", "nobody"):
        services.apply_campaign(campaign, {"name": f"By {role}"}, role)
        assert campaign.name == "Renamed", role
    services.apply_campaign(campaign, posted, "admin")
    assert (campaign.owner_id, campaign.status) == (users["admin"].id, "draft")
    assert campaign.planned_budget_minor == 1_000_000


def test_owner_field_is_shown_to_admin_only(client, login_as):
    login_as("marketer")
    assert 'name="owner_id"' not in client.get("/campaigns/new").get_data(as_text=True)
    client.post("/logout")
    login_as("admin")
    assert 'name="owner_id"' in client.get("/campaigns/new").get_data(as_text=True)


def test_admin_sets_the_owner(client, login_as, users):
    login_as("admin")
    data = campaign_data(owner_id=str(users["marketer"].id), status="active")
    assert client.post("/campaigns/new", data=data).status_code == 302
    db.session.rollback()
    campaign = db.session.scalars(select(Campaign)).one()
    assert campaign.owner_id == users["marketer"].id
    assert campaign.status == "draft"


def test_admin_hands_a_campaign_to_another_marketer_on_edit(client, login_as, users):
    campaign = make_campaign(users["marketer"])
    other = factories.UserFactory(role="marketer", name="Other Marketer")
    db.session.commit()
    login_as("admin")
    data = edit_data(campaign, owner_id=str(other.id))
    assert client.post(f"/campaigns/{campaign.id}/edit", data=data).status_code == 302
    assert reload(campaign).owner_id == other.id


def test_admin_cannot_give_a_campaign_to_an_unfit_owner(client, login_as, users, subtests):
    gone = factories.UserFactory(role="marketer", active=False)
    db.session.commit()
    owner_ids = {
        "viewer": str(users["viewer"].id),
        "finance": str(users["finance"].id),
        "inactive": str(gone.id),
        "missing": None,
        "nonexistent": "99999",
        "overflowing": "99999999999999999999",
    }
    login_as("admin")
    for owner, owner_id in owner_ids.items():
        with subtests.test(owner=owner):
            data = campaign_data()
            if owner_id is not None:
                data["owner_id"] = owner_id
            response = client.post("/campaigns/new", data=data)
            assert response.status_code == 400
            assert "owner_id" in field_errors(response)
            db.session.rollback()
            assert count_campaigns() == 0


# --- edit ---------------------------------------------------------------------------------------


def test_edit_prefills_and_saves(client, login_as):
    marketer = login_as("marketer")
    campaign = make_campaign(marketer, planned_budget_minor=2_500_050)
    page = client.get(f"/campaigns/{campaign.id}/edit")
    assert page.status_code == 200
    assert 'value="25000.50"' in page.get_data(as_text=True)

    data = edit_data(campaign, name="Spring Sale v2", planned_budget="30000", brand="Lumen")
    response = client.post(f"/campaigns/{campaign.id}/edit", data=data, follow_redirects=True)
    assert "Campaign saved." in flashes(response)
    campaign = reload(campaign)
    assert (campaign.name, campaign.brand) == ("Spring Sale v2", "Lumen")
    assert campaign.planned_budget_minor == 3_000_000


def test_edit_with_bad_input_changes_nothing(client, login_as):
    marketer = login_as("marketer")
    campaign = make_campaign(marketer)
    data = edit_data(campaign, name="Renamed", planned_budget="1000.5", currency="JPY")
    response = client.post(f"/campaigns/{campaign.id}/edit", data=data)
    assert response.status_code == 400
    assert "JPY has 0 decimal places" in field_errors(response)["planned_budget"][0]
    campaign = reload(campaign)
    assert (campaign.name, campaign.currency) == ("Spring Sale", "EUR")
    assert campaign.planned_budget_minor == 1_000_000


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        pytest.param("2026-03-01", "2026-03-20", "end_date", id="end-moved-before-deadline"),
        pytest.param("2026-03-12", "2026-03-31", "start_date", id="start-moved-after-deadline"),
    ],
)
def test_flight_change_that_strands_goal_deadlines_is_refused(client, login_as, start, end, field):
    marketer = login_as("marketer")
    campaign = make_campaign(marketer)
    add_goal(campaign, deadline=date(2026, 3, 10))
    add_goal(campaign, deadline=date(2026, 3, 31), metric="cpa", direction="at_most")
    response = client.post(
        f"/campaigns/{campaign.id}/edit", data=edit_data(campaign, start_date=start, end_date=end)
    )
    assert response.status_code == 400
    errors = field_errors(response)
    assert "goal deadline(s) would fall outside the new flight" in errors[field][0], errors
    assert "move them first" in errors[field][0]
    campaign = reload(campaign)
    assert (campaign.start_date, campaign.end_date) == (date(2026, 3, 1), date(2026, 3, 31))


def test_flight_change_that_keeps_deadlines_inside_is_saved(client, login_as):
    marketer = login_as("marketer")
    campaign = make_campaign(marketer)
    add_goal(campaign, deadline=date(2026, 3, 15))
    data = edit_data(campaign, start_date="2026-03-15", end_date="2026-03-15")
    assert client.post(f"/campaigns/{campaign.id}/edit", data=data).status_code == 302
    assert reload(campaign).end_date == date(2026, 3, 15)


def test_dropping_a_channel_a_goal_measures_is_refused(client, login_as):
    marketer = login_as("marketer")
    campaign = make_campaign(marketer)
    add_goal(campaign, channel="influencers")
    response = client.post(
        f"/campaigns/{campaign.id}/edit", data=edit_data(campaign, channels=["meta_ads"])
    )
    assert response.status_code == 400
    assert "Goals measure Influencers" in field_errors(response)["channels"][0]
    assert reload(campaign).channels == ["meta_ads", "influencers"]


def test_currency_change_with_money_goals_is_refused(client, login_as):
    marketer = login_as("marketer")
    campaign = make_campaign(marketer)
    add_goal(campaign, metric="cpa", direction="at_most", baseline=Decimal(30), target=Decimal(20))
    response = client.post(
        f"/campaigns/{campaign.id}/edit", data=edit_data(campaign, currency="USD")
    )
    assert response.status_code == 400
    assert "Money goals are set in the current currency" in field_errors(response)["currency"][0]
    assert reload(campaign).currency == "EUR"


# --- the status workflow ------------------------------------------------------------------------


@pytest.mark.parametrize("before", STATUSES)
def test_status_workflow_allows_only_listed_transitions(client, login_as, subtests, before):
    """Every (before, after) pair: allowed ones happen; the rest are refused, changing nothing."""
    marketer = login_as("marketer")
    for after in STATUSES:
        with subtests.test(before=before, after=after):
            campaign = make_campaign(marketer, status=before, name=f"{before} to {after}")
            add_goal(campaign)
            response = client.post(
                f"/campaigns/{campaign.id}/status", data={"to": after}, follow_redirects=True
            )
            assert response.status_code == 200
            messages = flashes(response)
            campaign = reload(campaign)
            if (before, after) in ALLOWED:
                assert f"“{before} to {after}” is now {after}." in messages
                assert campaign.status == after
                assert campaign.status_changed_at is not None
            else:
                refusal = f"A {before} campaign cannot become {after}"
                assert any(refusal in m for m in messages), messages
                assert campaign.status == before
                assert campaign.status_changed_at is None


def test_activation_without_goals_is_refused(client, login_as):
    marketer = login_as("marketer")
    for before in ("planned", "paused"):
        campaign = make_campaign(marketer, status=before)
        response = client.post(
            f"/campaigns/{campaign.id}/status", data={"to": "active"}, follow_redirects=True
        )
        assert "Add at least one SMART goal before activating the campaign." in flashes(response)
        assert reload(campaign).status == before


def test_unknown_target_status_is_refused(client, login_as, subtests):
    marketer = login_as("marketer")
    campaign = make_campaign(marketer, status="draft")
    for to in ["", "bogus", "ACTIVE", "archived ", None]:
        with subtests.test(to=to):
            data = {} if to is None else {"to": to}
            response = client.post(
                f"/campaigns/{campaign.id}/status", data=data, follow_redirects=True
            )
            assert response.status_code == 200
            assert any("is not a campaign status" in m for m in flashes(response))
            assert reload(campaign).status == "draft"


def test_detail_offers_only_allowed_transitions(client, login_as):
    marketer = login_as("marketer")
    campaign = make_campaign(marketer, status="active")
    add_goal(campaign)
    html = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    offered = set(re.findall(r'name="to" value="(\w+)"', html))
    assert offered == {"paused", "completed"}


def test_archived_campaign_is_read_only(client, login_as):
    marketer = login_as("marketer")
    campaign = make_campaign(marketer, status="archived")
    response = client.get(f"/campaigns/{campaign.id}/edit")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/campaigns/{campaign.id}")
    followed = client.post(
        f"/campaigns/{campaign.id}/edit",
        data=edit_data(campaign, name="Sneaky rename"),
        follow_redirects=True,
    )
    assert "Archived campaigns are read-only." in flashes(followed)
    assert reload(campaign).name == "Spring Sale"
    detail = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert f"/campaigns/{campaign.id}/edit" not in detail
    assert 'name="to"' not in detail


def test_completed_campaign_can_still_be_corrected(client, login_as):
    marketer = login_as("marketer")
    campaign = make_campaign(marketer, status="completed")
    add_goal(campaign)
    data = edit_data(campaign, description="Final numbers in.")
    assert client.post(f"/campaigns/{campaign.id}/edit", data=data).status_code == 302
    assert reload(campaign).description == "Final numbers in."


# --- who may do what ----------------------------------------------------------------------------


def test_marketer_cannot_edit_or_transition_another_marketers_campaign(client, users):
    campaign = make_campaign(users["marketer"])
    add_goal(campaign)
    intruder = factories.UserFactory(role="marketer", email="b@example.test")
    db.session.commit()
    assert login(client, intruder).status_code == 302
    assert client.get(f"/campaigns/{campaign.id}").status_code == 200
    assert client.get(f"/campaigns/{campaign.id}/edit").status_code == 403
    edit = client.post(f"/campaigns/{campaign.id}/edit", data=edit_data(campaign, name="Mine"))
    assert edit.status_code == 403
    status = client.post(f"/campaigns/{campaign.id}/status", data={"to": "planned"})
    assert status.status_code == 403
    campaign = reload(campaign)
    assert (campaign.name, campaign.status) == ("Spring Sale", "draft")
    detail = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert f"/campaigns/{campaign.id}/edit" not in detail


def test_admin_can_edit_and_transition_any_campaign(client, login_as, users):
    campaign = make_campaign(users["marketer"])
    add_goal(campaign)
    login_as("admin")
    data = edit_data(campaign, name="Admin fixed it", owner_id=str(users["marketer"].id))
    assert client.post(f"/campaigns/{campaign.id}/edit", data=data).status_code == 302
    status = client.post(f"/campaigns/{campaign.id}/status", data={"to": "planned"})
    assert status.status_code == 302
    campaign = reload(campaign)
    assert (campaign.name, campaign.status) == ("Admin fixed it", "planned")
    assert campaign.owner_id == users["marketer"].id


@pytest.mark.parametrize("role", READ_ONLY_ROLES)
def test_read_only_roles_read_but_cannot_change(client, login_as, users, role):
    campaign = make_campaign(users["marketer"])
    add_goal(campaign)
    login_as(role)
    listing = client.get("/campaigns/")
    assert listing.status_code == 200
    assert "Spring Sale" in listing.get_data(as_text=True)
    assert "New campaign" not in listing.get_data(as_text=True)
    detail = client.get(f"/campaigns/{campaign.id}")
    assert detail.status_code == 200
    html = detail.get_data(as_text=True)
    assert "Spring Sale" in html and "€10,000.00" in html
    assert f"/campaigns/{campaign.id}/edit" not in html and 'name="to"' not in html
    assert client.get("/campaigns/calendar?month=2026-03").status_code == 200

    assert client.get("/campaigns/new").status_code == 403
    assert client.post("/campaigns/new", data=campaign_data()).status_code == 403
    assert client.get(f"/campaigns/{campaign.id}/edit").status_code == 403
    edit = client.post(f"/campaigns/{campaign.id}/edit", data=edit_data(campaign, name="X"))
    assert edit.status_code == 403
    status = client.post(f"/campaigns/{campaign.id}/status", data={"to": "planned"})
    assert status.status_code == 403
    campaign = reload(campaign)
    assert (campaign.name, campaign.status) == ("Spring Sale", "draft")
    assert count_campaigns() == 1


def test_anonymous_is_sent_to_sign_in(client, users):
    campaign = make_campaign(users["marketer"])
    response = client.get(f"/campaigns/{campaign.id}")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_unknown_campaign_is_404(client, login_as, subtests):
    marketer = login_as("marketer")
    campaign = make_campaign(marketer)
    for method, path in [
        ("GET", "/campaigns/424242"),
        ("GET", "/campaigns/424242/edit"),
        ("POST", "/campaigns/424242/edit"),
        ("POST", "/campaigns/424242/status"),
        ("GET", "/campaigns/99999999999999999999"),
        ("POST", "/campaigns/99999999999999999999/status"),
        ("GET", f"/campaigns/{campaign.id}/goals/99999999999999999999/edit"),
    ]:
        with subtests.test(method=method, path=path):
            response = client.open(path, method=method, data={"to": "planned"})
            assert response.status_code == 404
            assert "There is nothing at this address" in response.get_data(as_text=True)
    assert reload(campaign).status == "draft"


def test_get_on_post_only_routes_is_405_and_changes_nothing(client, login_as):
    marketer = login_as("marketer")
    campaign = make_campaign(marketer, status="planned")
    goal = add_goal(campaign)
    assert client.get(f"/campaigns/{campaign.id}/status?to=active").status_code == 405
    assert client.get(f"/campaigns/{campaign.id}/goals/{goal.id}/delete").status_code == 405
    assert reload(campaign).status == "planned"
    assert db.session.get(Goal, goal.id) is not None
