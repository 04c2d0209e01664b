"""Audit trail of campaign changes, the audit page's access, and `flask demo seed`."""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from campaigns.models import Campaign, Goal
from campaigns.services import GoalInput, goal_errors
from core.extensions import db
from core.models import AuditEntry, User
from tests import factories
from tests.conftest import login

DEMO_EMAILS = {
    "admin@flightdeck.test",
    "marketer@flightdeck.test",
    "finance@flightdeck.test",
    "coordinator@flightdeck.test",
    "viewer@flightdeck.test",
}
CAMPAIGN_FORM = {
    "name": "Autumn Boots Launch",
    "objective": "sales",
    "channels": ["meta_ads"],
    "brand": "Stride",
    "product": "Boot X",
    "description": "",
    "start_date": "2026-09-01",
    "end_date": "2026-10-31",
    "currency": "EUR",
    "planned_budget": "25,000.50",
}


def entries(object_type: str, action: str | None = None) -> list[AuditEntry]:
    db.session.rollback()
    stmt = select(AuditEntry).where(AuditEntry.object_type == object_type)
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    return list(db.session.scalars(stmt.order_by(AuditEntry.id)))


def make_campaign(owner, **overrides) -> Campaign:
    values = {
        "owner": owner,
        "name": "Spring Sale",
        "start_date": date(2026, 3, 1),
        "end_date": date(2026, 3, 31),
        "channels_csv": ",meta_ads,",
        "planned_budget_minor": 2_500_050,
    }
    values.update(overrides)
    campaign = factories.CampaignFactory(**values)
    db.session.commit()
    return campaign


# --- the audit trail ----------------------------------------------------------------------------


def test_creating_a_campaign_is_audited_with_who_and_what(client, login_as):
    marketer = login_as("marketer")
    assert client.post("/campaigns/new", data=CAMPAIGN_FORM).status_code == 302
    campaign = db.session.scalars(select(Campaign)).one()
    (entry,) = entries("Campaign", "create")
    assert entry.actor_label == "marketer@example.test"
    assert entry.actor_id == marketer.id
    assert entry.object_label == "Autumn Boots Launch"
    assert entry.changes["planned_budget_minor"] == [None, 2_500_050]
    assert entry.changes["name"] == [None, "Autumn Boots Launch"]
    assert entry.changes["status"] == [None, "draft"]
    assert entry.at is not None
    assert campaign.planned_budget_minor == 2_500_050


def test_create_entry_points_at_the_created_object(client, login_as):
    admin = login_as("admin")
    data = dict(CAMPAIGN_FORM, owner_id=str(admin.id))
    assert client.post("/campaigns/new", data=data).status_code == 302
    campaign = db.session.scalars(select(Campaign)).one()
    (entry,) = entries("Campaign", "create")
    assert entry.object_id == str(campaign.id)
    detail = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert 'class="action action-create"' in detail  # the history shows how it began


def test_editing_the_budget_records_before_and_after(client, login_as):
    marketer = login_as("marketer")
    campaign = make_campaign(marketer)
    data = dict(
        CAMPAIGN_FORM,
        name="Spring Sale",
        start_date="2026-03-01",
        end_date="2026-03-31",
        brand=campaign.brand,
        product=campaign.product,
        objective=campaign.objective,
        planned_budget="30,000",
    )
    assert client.post(f"/campaigns/{campaign.id}/edit", data=data).status_code == 302
    (entry,) = entries("Campaign", "update")
    assert entry.actor_label == "marketer@example.test"
    assert entry.changes["planned_budget_minor"] == [2_500_050, 3_000_000]
    assert "name" not in entry.changes  # only what changed
    assert "updated_at" not in entry.changes


def test_a_refused_edit_leaves_no_audit_entry(client, login_as):
    marketer = login_as("marketer")
    campaign = make_campaign(marketer)
    data = dict(CAMPAIGN_FORM, start_date="2026-03-01", end_date="2026-02-01")
    assert client.post(f"/campaigns/{campaign.id}/edit", data=data).status_code == 400
    assert entries("Campaign", "update") == []


def test_status_change_records_before_and_after(client, login_as):
    marketer = login_as("marketer")
    campaign = make_campaign(marketer)
    response = client.post(f"/campaigns/{campaign.id}/status", data={"to": "planned"})
    assert response.status_code == 302
    (entry,) = entries("Campaign", "update")
    assert entry.changes["status"] == ["draft", "planned"]
    assert entry.changes["status_changed_at"][0] is None
    assert entry.actor_label == "marketer@example.test"


def test_refused_status_change_leaves_no_audit_entry(client, login_as):
    marketer = login_as("marketer")
    campaign = make_campaign(marketer)
    client.post(f"/campaigns/{campaign.id}/status", data={"to": "completed"})
    assert entries("Campaign", "update") == []


def test_goal_create_and_delete_are_audited(client, login_as):
    marketer = login_as("marketer")
    campaign = make_campaign(marketer)
    goal_form = {
        "metric": "roas",
        "channel": "",
        "direction": "at_least",
        "baseline": "2",
        "target": "3.1416",
        "deadline": "2026-03-31",
        "owner_id": str(marketer.id),
    }
    assert client.post(f"/campaigns/{campaign.id}/goals/new", data=goal_form).status_code == 302
    goal_id = db.session.scalars(select(Goal.id)).one()
    (created,) = entries("Goal", "create")
    assert created.changes["target"] == [None, "3.1416"]
    assert created.actor_label == "marketer@example.test"
    assert created.object_id == str(goal_id)

    response = client.post(f"/campaigns/{campaign.id}/goals/{goal_id}/delete")
    assert response.status_code == 302
    (deleted,) = entries("Goal", "delete")
    assert deleted.object_id == str(goal_id)
    assert deleted.actor_label == "marketer@example.test"
    assert Decimal(deleted.changes["target"][0]) == Decimal("3.1416")
    assert deleted.changes["target"][1] is None
    assert deleted.changes["metric"] == ["roas", None]


def test_audit_page_is_for_admin_and_finance_only(client, login_as, users, subtests):
    campaign = make_campaign(users["marketer"])
    assert login(client, users["marketer"]).status_code == 302
    client.post(f"/campaigns/{campaign.id}/status", data={"to": "planned"})
    client.post("/logout")
    for role in ("admin", "finance", "marketer", "coordinator", "viewer"):
        with subtests.test(role=role):
            login_as(role)
            response = client.get("/admin/audit")
            html = response.get_data(as_text=True)
            detail = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
            if role in ("admin", "finance"):
                assert response.status_code == 200
                assert "marketer@example.test" in html
                assert f"Campaign #{campaign.id}" in html
                assert "<code>status</code>: draft → planned" in html
                assert "Recent changes" in detail
            else:
                assert response.status_code == 403
                assert "Your role does not allow this." in html
                assert "Recent changes" not in detail
            client.post("/logout")


# --- demo seed ----------------------------------------------------------------------------------


def run_seed(app):
    result = app.test_cli_runner().invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    db.session.rollback()
    return result


def test_demo_seed_creates_users_and_campaigns_across_statuses(app, client):
    result = run_seed(app)
    assert "Demo data ready" in result.output
    assert "flightdeck-demo" in result.output

    emails = set(db.session.scalars(select(User.email)))
    assert emails == DEMO_EMAILS
    for user in db.session.scalars(select(User)):
        assert user.role == user.email.split("@")[0] and user.active

    campaigns = list(db.session.scalars(select(Campaign)))
    assert len(campaigns) == 12
    statuses = Counter(c.status for c in campaigns)
    assert set(statuses) == {"draft", "planned", "active", "paused", "completed", "archived"}
    for campaign in campaigns:
        assert campaign.end_date >= campaign.start_date
        assert campaign.channels and campaign.planned_budget_minor > 0
        if campaign.status != "draft":
            assert campaign.goals, f"{campaign.name} ({campaign.status}) has no goal"
        for goal in campaign.goals:
            errors, _ = goal_errors(
                campaign,
                GoalInput(
                    metric=goal.metric,
                    direction=goal.direction,
                    baseline=goal.baseline,
                    target=goal.target,
                    deadline=goal.deadline,
                    owner_id=goal.owner_id,
                    channel=goal.channel,
                ),
            )
            assert errors == {}, (campaign.name, goal.metric, errors)

    # Changes made by the seed are attributed to it.
    labels = set(db.session.scalars(select(AuditEntry.actor_label).distinct()))
    assert labels == {"demo seed"}
    # The printed logins work.
    assert login(client, "marketer@flightdeck.test", "flightdeck-demo").status_code == 302
    assert client.get("/campaigns/").status_code == 200


def test_demo_seed_twice_creates_nothing_new(app):
    run_seed(app)
    campaigns = db.session.scalar(select(func.count(Campaign.id)))
    goals = db.session.scalar(select(func.count(Goal.id)))
    second = run_seed(app)
    assert "campaigns created 0" in second.output
    assert db.session.scalar(select(func.count(User.id))) == 5
    assert db.session.scalar(select(func.count(Campaign.id))) == campaigns == 12
    assert db.session.scalar(select(func.count(Goal.id))) == goals
    duplicated = db.session.scalars(
        select(User.email).group_by(User.email).having(func.count(User.id) > 1)
    ).all()
    assert duplicated == []
