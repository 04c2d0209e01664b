"""SMART goals: every validation rule through the form and the service, edit/delete, freezing."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from html import unescape

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from campaigns.models import Goal
from campaigns.services import CampaignError, GoalInput, goal_errors, save_goal
from core.extensions import db
from tests import factories
from tests.conftest import login

START, END = date(2026, 3, 1), date(2026, 3, 31)
FLIGHT = "01 Mar 2026 – 31 Mar 2026"


def field_errors(response) -> dict[str, list[str]]:
    """The messages shown next to each form field, by field name."""
    html = response.get_data(as_text=True)
    found: dict[str, list[str]] = {}
    for name, message in re.findall(r'data-error-for="([^"]+)">(.*?)</p>', html, re.S):
        found.setdefault(name, []).append(unescape(message))
    return found


def flashes(response) -> list[str]:
    html = response.get_data(as_text=True)
    return [unescape(m) for m in re.findall(r'class="flash[^"]*" role="status">(.*?)</div>', html)]


def goal_count(campaign_id: int | None = None) -> int:
    stmt = select(func.count(Goal.id))
    if campaign_id is not None:
        stmt = stmt.where(Goal.campaign_id == campaign_id)
    return db.session.scalar(stmt)


def make_campaign(owner, **overrides):
    values = {
        "owner": owner,
        "start_date": START,
        "end_date": END,
        "channels_csv": ",meta_ads,influencers,",
    }
    values.update(overrides)
    campaign = factories.CampaignFactory(**values)
    db.session.commit()
    return campaign


def goal_data(campaign, **overrides) -> dict[str, str]:
    data = {
        "metric": "roas",
        "channel": "",
        "direction": "at_least",
        "baseline": "2",
        "target": "3.5",
        "deadline": campaign.end_date.isoformat(),
        "owner_id": str(campaign.owner_id),
        "notes": "Beat last spring's ROAS.",
    }
    data.update(overrides)
    return data


def goal_input(campaign, **overrides) -> GoalInput:
    values = {
        "metric": "roas",
        "direction": "at_least",
        "baseline": "2",
        "target": "3.5",
        "deadline": campaign.end_date,
        "owner_id": campaign.owner_id,
        "channel": None,
    }
    values.update(overrides)
    return GoalInput(**values)


@pytest.fixture
def marketer(login_as):
    return login_as("marketer")


@pytest.fixture
def campaign(marketer):
    return make_campaign(marketer)


# --- each SMART rule, with its message next to the right field ----------------------------------

# (form overrides, campaign overrides, field, message fragment)
RULES = [
    pytest.param({"target": ""}, {}, "target", "Enter a numeric target", id="target-missing"),
    pytest.param(
        {"target": "abc"}, {}, "target", "Enter a numeric target", id="target-not-a-number"
    ),
    pytest.param(
        {"baseline": ""}, {}, "baseline", "Enter the numeric baseline", id="baseline-missing"
    ),
    pytest.param(
        {"target": "3,5"}, {}, "target", "Enter a numeric target", id="decimal-comma-not-35"
    ),
    pytest.param(
        {"direction": "at_least", "baseline": "3.5", "target": "3.5"},
        {},
        "target",
        "For 'at least', the target must be above the baseline (3.5)",
        id="at-least-target-equals-baseline",
    ),
    pytest.param(
        {"direction": "at_least", "baseline": "3.5", "target": "2"},
        {},
        "target",
        "For 'at least', the target must be above the baseline (3.5)",
        id="at-least-target-below-baseline",
    ),
    pytest.param(
        {"metric": "cpa", "direction": "at_most", "baseline": "20", "target": "20"},
        {},
        "target",
        "For 'at most', the target must be below the baseline (20)",
        id="at-most-target-equals-baseline",
    ),
    pytest.param(
        {"metric": "cpa", "direction": "at_most", "baseline": "20", "target": "25"},
        {},
        "target",
        "For 'at most', the target must be below the baseline (20)",
        id="at-most-target-above-baseline",
    ),
    pytest.param(
        {"deadline": "2026-02-28"},
        {},
        "deadline",
        f"The deadline must fall within the flight, {FLIGHT}.",
        id="deadline-before-start",
    ),
    pytest.param(
        {"deadline": "2026-04-01"},
        {},
        "deadline",
        f"The deadline must fall within the flight, {FLIGHT}.",
        id="deadline-after-end",
    ),
    pytest.param(
        {"channel": "tiktok_ads"},
        {},
        "channel",
        "Relevant: pick one of the campaign's channels (Meta Ads, Influencers)",
        id="channel-not-in-campaign",
    ),
    pytest.param(
        {"metric": "ctr", "baseline": "50", "target": "120"},
        {},
        "target",
        "CTR is a percentage: use a value from 0 to 100.",
        id="percent-above-100",
    ),
    pytest.param(
        {"metric": "clicks", "baseline": "100", "target": "250.5"},
        {},
        "target",
        "Clicks counts whole numbers.",
        id="count-with-decimals",
    ),
    pytest.param(
        {"metric": "cpa", "direction": "at_most", "baseline": "500", "target": "450.5"},
        {"currency": "JPY", "planned_budget_minor": 3_500_000},
        "target",
        "JPY amounts have 0 decimal places.",
        id="jpy-money-with-decimals",
    ),
    pytest.param(
        {"metric": "spend", "direction": "at_most", "baseline": "1000.125", "target": "900"},
        {},
        "baseline",
        "EUR amounts have 2 decimal places.",
        id="eur-money-with-three-decimals",
    ),
    pytest.param(
        {"baseline": "-1"}, {}, "baseline", "The baseline cannot be negative.", id="negative"
    ),
    pytest.param(
        {"target": "99999999999999999999"},
        {},
        "target",
        "too large",
        id="target-too-large-for-storage",
    ),
]


@pytest.mark.parametrize(("overrides", "campaign_overrides", "field", "message"), RULES)
def test_non_smart_goal_is_refused_next_to_its_field(
    client, marketer, overrides, campaign_overrides, field, message
):
    campaign = make_campaign(marketer, **campaign_overrides)
    # Through the form: 400, the message beside the field, nothing saved.
    response = client.post(
        f"/campaigns/{campaign.id}/goals/new", data=goal_data(campaign, **overrides)
    )
    assert response.status_code == 400
    errors = field_errors(response)
    assert any(message in m for m in errors.get(field, [])), errors
    db.session.rollback()
    assert goal_count() == 0
    # Through the service: the same rule, keyed by the same field.
    typed = dict(overrides)
    if "deadline" in typed:
        typed["deadline"] = date.fromisoformat(typed["deadline"])
    errors, _ = goal_errors(campaign, goal_input(campaign, **typed))
    assert message in errors.get(field, ""), errors
    with pytest.raises(CampaignError) as refused:
        save_goal(campaign, goal_input(campaign, **typed))
    assert refused.value.field in errors
    db.session.rollback()
    assert goal_count() == 0


def test_inactive_owner_is_refused_in_form_and_service(client, marketer, campaign):
    gone = factories.UserFactory(active=False, name="Former Marketer")
    db.session.commit()
    response = client.post(
        f"/campaigns/{campaign.id}/goals/new", data=goal_data(campaign, owner_id=str(gone.id))
    )
    assert response.status_code == 400
    assert any("Choose an active owner" in m for m in field_errors(response)["owner_id"])
    errors, _ = goal_errors(campaign, goal_input(campaign, owner_id=gone.id))
    assert "Choose an active owner" in errors["owner_id"]
    errors, _ = goal_errors(campaign, goal_input(campaign, owner_id=None))
    assert "owner_id" in errors
    db.session.rollback()
    assert goal_count() == 0


def test_form_shows_every_broken_rule_at_once(client, marketer, campaign):
    data = goal_data(campaign, target="abc", deadline="2026-05-01", channel="linkedin_ads")
    response = client.post(f"/campaigns/{campaign.id}/goals/new", data=data)
    assert response.status_code == 400
    assert {"target", "deadline", "channel"} <= field_errors(response).keys()


def test_weird_numbers_are_refused_not_crashing(client, marketer, campaign, subtests):
    for garbage in ["<script>", "1;DROP TABLE goals", "NaN", "Infinity", "1e", "1,5", "  "]:
        with subtests.test(target=garbage):
            response = client.post(
                f"/campaigns/{campaign.id}/goals/new", data=goal_data(campaign, target=garbage)
            )
            assert response.status_code == 400
            assert "Enter a numeric target" in field_errors(response)["target"][0]
    for owner in ["abc", "99999999999999999999", "-1"]:
        with subtests.test(owner_id=owner):
            response = client.post(
                f"/campaigns/{campaign.id}/goals/new", data=goal_data(campaign, owner_id=owner)
            )
            assert response.status_code == 400
            assert "owner_id" in field_errors(response)
    db.session.rollback()
    assert goal_count() == 0


def test_nul_byte_in_notes_is_refused_not_a_500(client, marketer, campaign):
    response = client.post(
        f"/campaigns/{campaign.id}/goals/new", data=goal_data(campaign, notes="a\x00b")
    )
    assert response.status_code == 400
    assert "invisible NUL character" in response.get_data(as_text=True)
    db.session.rollback()
    assert goal_count() == 0


# --- valid goals ------------------------------------------------------------------------------


def test_valid_goal_saves_exact_decimals_through_the_form(client, marketer, campaign):
    response = client.post(
        f"/campaigns/{campaign.id}/goals/new",
        data=goal_data(campaign, baseline="2.0001", target="3.1416", channel="meta_ads"),
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/campaigns/{campaign.id}")
    db.session.rollback()
    goal = db.session.scalars(select(Goal)).one()
    assert goal.target == Decimal("3.1416")
    assert str(goal.target) == "3.1416"
    assert goal.baseline == Decimal("2.0001")
    assert (goal.metric, goal.direction, goal.channel) == ("roas", "at_least", "meta_ads")
    assert goal.deadline == END
    assert goal.owner_id == marketer.id
    assert goal.notes == "Beat last spring's ROAS."
    # Progress fields exist and wait for synced data.
    assert goal.current_value is None and goal.progress_status is None
    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert "3.14×" in page and "awaiting synced data" in page


def test_flash_names_the_saved_goal(client, marketer, campaign):
    response = client.post(
        f"/campaigns/{campaign.id}/goals/new",
        data=goal_data(campaign, target="3.1416"),
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "Goal saved: ROAS at least 3.1416." in flashes(response)


def test_deadline_on_flight_boundaries_is_accepted(marketer, campaign):
    for deadline in (START, END):
        goal = save_goal(campaign, goal_input(campaign, deadline=deadline))
        db.session.commit()
        db.session.expire_all()
        assert db.session.get(Goal, goal.id).deadline == deadline


VALID = [
    ("roas", "at_least", "2", "3.1416", "EUR", "3.1416"),
    ("clicks", "at_least", "0", "12,000", "EUR", "12000"),
    ("ctr", "at_least", "0.9", "1.45%", "EUR", "1.45"),
    ("cpa", "at_most", "38", "27.99", "EUR", "27.99"),
    ("cpa", "at_most", "500", "450", "JPY", "450"),
    ("clicks", "at_most", "10", "0", "EUR", "0"),
    ("cpa", "at_most", "38.0000", "27.990", "EUR", "27.99"),  # zeros are not decimals
    ("cpa", "at_most", Decimal("500.0000"), Decimal("450.0000"), "JPY", "450"),
    ("roas", "at_least", "1.50000", "2", "EUR", "2"),
]


def test_service_saves_valid_goals_exactly(marketer, subtests):
    for metric, direction, baseline, target, currency, stored in VALID:
        with subtests.test(metric=metric, baseline=baseline, target=target, currency=currency):
            campaign = make_campaign(marketer, currency=currency)
            given = goal_input(
                campaign, metric=metric, direction=direction, baseline=baseline, target=target
            )
            errors, clean = goal_errors(campaign, given)
            assert errors == {}
            assert clean["target"] == Decimal(stored)
            goal = save_goal(campaign, given)
            db.session.commit()
            db.session.expire_all()
            assert db.session.get(Goal, goal.id).target == Decimal(stored)


# --- editing and deleting -----------------------------------------------------------------------


def test_edit_goal_prefills_and_updates(client, marketer, campaign):
    goal = factories.GoalFactory(campaign=campaign, baseline=Decimal("2"), target=Decimal("3.5"))
    db.session.commit()
    page = client.get(f"/campaigns/{campaign.id}/goals/{goal.id}/edit")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'name="target" type="text" value="3.5"' in html
    assert 'name="baseline" type="text" value="2"' in html

    response = client.post(
        f"/campaigns/{campaign.id}/goals/{goal.id}/edit",
        data=goal_data(campaign, target="4.25", deadline="2026-03-20"),
    )
    assert response.status_code == 302
    db.session.rollback()
    goal = db.session.get(Goal, goal.id)
    assert (goal.target, goal.deadline) == (Decimal("4.25"), date(2026, 3, 20))
    assert goal_count() == 1


def test_edit_goal_with_broken_rule_changes_nothing(client, marketer, campaign):
    goal = factories.GoalFactory(campaign=campaign, target=Decimal("3.5"))
    db.session.commit()
    response = client.post(
        f"/campaigns/{campaign.id}/goals/{goal.id}/edit",
        data=goal_data(campaign, target="1", baseline="2"),
    )
    assert response.status_code == 400
    assert "target must be above the baseline" in field_errors(response)["target"][0]
    db.session.rollback()
    assert db.session.get(Goal, goal.id).target == Decimal("3.5")


def test_goal_of_another_campaign_is_404(client, marketer, campaign):
    other = make_campaign(marketer)
    goal = factories.GoalFactory(campaign=other)
    db.session.commit()
    assert client.get(f"/campaigns/{campaign.id}/goals/{goal.id}/edit").status_code == 404
    assert client.post(f"/campaigns/{campaign.id}/goals/{goal.id}/delete").status_code == 404
    assert client.get(f"/campaigns/{campaign.id}/goals/999/edit").status_code == 404
    db.session.rollback()
    assert goal_count(other.id) == 1


def test_delete_goal(client, marketer, campaign):
    goal = factories.GoalFactory(campaign=campaign)
    db.session.commit()
    response = client.post(
        f"/campaigns/{campaign.id}/goals/{goal.id}/delete", follow_redirects=True
    )
    assert response.status_code == 200
    assert "Goal removed." in flashes(response)
    db.session.rollback()
    assert goal_count() == 0


@pytest.mark.parametrize("status", ["active", "paused"])
def test_running_campaign_keeps_at_least_one_goal(client, marketer, status):
    campaign = make_campaign(marketer, status=status)
    first = factories.GoalFactory(campaign=campaign)
    second = factories.GoalFactory(campaign=campaign, metric="cpa", direction="at_most")
    db.session.commit()
    ok = client.post(f"/campaigns/{campaign.id}/goals/{first.id}/delete", follow_redirects=True)
    assert "Goal removed." in flashes(ok)
    refused = client.post(
        f"/campaigns/{campaign.id}/goals/{second.id}/delete", follow_redirects=True
    )
    assert refused.status_code == 200
    assert "A running campaign keeps at least one goal." in flashes(refused)
    db.session.rollback()
    assert db.session.scalars(select(Goal.id)).all() == [second.id]


def test_not_running_campaign_may_drop_its_last_goal(client, marketer):
    for status in ("draft", "planned"):
        campaign = make_campaign(marketer, status=status)
        goal = factories.GoalFactory(campaign=campaign)
        db.session.commit()
        client.post(f"/campaigns/{campaign.id}/goals/{goal.id}/delete")
        db.session.rollback()
        assert goal_count(campaign.id) == 0, status


@pytest.mark.parametrize("status", ["completed", "archived"])
def test_goals_of_finished_campaigns_are_frozen(client, marketer, status):
    campaign = make_campaign(marketer, status=status)
    goal = factories.GoalFactory(campaign=campaign, target=Decimal("3.5"))
    db.session.commit()
    base = f"/campaigns/{campaign.id}/goals"

    new_page = client.get(f"{base}/new")
    assert new_page.status_code == 409
    assert "frozen" in new_page.get_data(as_text=True)
    assert client.post(f"{base}/new", data=goal_data(campaign, target="9")).status_code == 409
    assert client.get(f"{base}/{goal.id}/edit").status_code == 409
    assert client.post(f"{base}/{goal.id}/edit", data=goal_data(campaign)).status_code == 409
    assert client.post(f"{base}/{goal.id}/delete").status_code == 409

    db.session.rollback()
    assert goal_count() == 1
    assert db.session.get(Goal, goal.id).target == Decimal("3.5")
    detail = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert "Add goal" not in detail
    assert f"{base}/{goal.id}/delete" not in detail


# --- who may touch goals ------------------------------------------------------------------------


def test_marketer_cannot_touch_another_marketers_goals(client, users, login_as):
    other_campaign = make_campaign(users["marketer"])
    goal = factories.GoalFactory(campaign=other_campaign, target=Decimal("3.5"))
    intruder = factories.UserFactory(role="marketer", email="b@example.test")
    db.session.commit()

    assert login(client, intruder).status_code == 302
    base = f"/campaigns/{other_campaign.id}/goals"
    assert client.get(f"{base}/new").status_code == 403
    assert client.post(f"{base}/new", data=goal_data(other_campaign)).status_code == 403
    edit = client.post(f"{base}/{goal.id}/edit", data=goal_data(other_campaign, target="9"))
    assert edit.status_code == 403
    assert client.post(f"{base}/{goal.id}/delete").status_code == 403
    db.session.rollback()
    assert goal_count() == 1
    assert db.session.get(Goal, goal.id).target == Decimal("3.5")


def test_read_only_roles_cannot_touch_goals(client, users, login_as):
    campaign = make_campaign(users["marketer"])
    goal = factories.GoalFactory(campaign=campaign, target=Decimal("3.5"))
    db.session.commit()
    base = f"/campaigns/{campaign.id}/goals"
    for role in ("finance", "coordinator", "viewer"):
        login_as(role)
        assert client.get(f"{base}/new").status_code == 403, role
        assert client.post(f"{base}/new", data=goal_data(campaign)).status_code == 403, role
        edit = client.post(f"{base}/{goal.id}/edit", data=goal_data(campaign, target="9"))
        assert edit.status_code == 403, role
        assert client.post(f"{base}/{goal.id}/delete").status_code == 403, role
        client.post("/logout")
    db.session.rollback()
    assert goal_count() == 1
    assert db.session.get(Goal, goal.id).target == Decimal("3.5")


def test_admin_can_add_a_goal_to_any_campaign(client, users, login_as):
    campaign = make_campaign(users["marketer"])
    login_as("admin")
    response = client.post(f"/campaigns/{campaign.id}/goals/new", data=goal_data(campaign))
    assert response.status_code == 302
    db.session.rollback()
    assert goal_count(campaign.id) == 1


def test_goal_on_unknown_campaign_is_404(client, marketer):
    assert client.get("/campaigns/424242/goals/new").status_code == 404


# --- properties ---------------------------------------------------------------------------------

COUNT = st.integers(min_value=0, max_value=10**9).map(Decimal)
RATIO = st.decimals(
    min_value=Decimal("0.0001"), max_value=Decimal(10**6), places=4, allow_nan=False
)


def test_target_error_exactly_when_target_not_beyond_baseline(marketer, campaign):
    @settings(max_examples=300, deadline=None, database=None)
    @given(
        data=st.one_of(
            st.tuples(st.just("clicks"), COUNT, COUNT),
            st.tuples(st.just("roas"), RATIO, RATIO),
        ),
        direction=st.sampled_from(["at_least", "at_most"]),
        as_text=st.booleans(),
    )
    def check(data, direction, as_text):
        metric, baseline, target = data
        errors, _ = goal_errors(
            campaign,
            goal_input(
                campaign,
                metric=metric,
                direction=direction,
                baseline=str(baseline) if as_text else baseline,
                target=str(target) if as_text else target,
            ),
        )
        beyond = target > baseline if direction == "at_least" else target < baseline
        assert set(errors) <= {"target"}, errors
        assert ("target" in errors) == (not beyond), (baseline, target, direction, errors)

    check()


def test_goal_errors_never_crashes_on_any_text(marketer, campaign):
    @settings(max_examples=200, deadline=None, database=None)
    @given(
        baseline=st.one_of(st.none(), st.text(max_size=30)),
        target=st.one_of(st.none(), st.text(max_size=30)),
        metric=st.sampled_from(["roas", "clicks", "ctr", "cpa", "spend", "nope"]),
        direction=st.sampled_from(["at_least", "at_most", "sideways"]),
    )
    def check(baseline, target, metric, direction):
        errors, _ = goal_errors(
            campaign,
            goal_input(
                campaign, metric=metric, direction=direction, baseline=baseline, target=target
            ),
        )
        assert isinstance(errors, dict)
        if metric == "nope":
            assert "metric" in errors
        if direction == "sideways":
            assert "direction" in errors

    check()


# --- Progress and forecast, against hand-computed cases ----------------------------------


def _synced(campaign, days: dict[date, tuple[int, int, int]], *, platform="meta_ads", through=None):
    """Facts for `campaign` on one account: day -> (spend minor, conversions, reach)."""
    from ads import services

    account = services.csv_account(platform, f"acct-{platform}-{campaign.id}", "EUR")
    account.synced_through = through
    pc = services.upsert_platform_campaign(account, f"pc-{platform}", campaign.name)
    services.map_manually(pc, campaign.id)
    db.session.flush()
    services.upsert_facts(
        account,
        [
            services.FactRow(
                platform_campaign_id=pc.id,
                level="campaign",
                object_id=pc.external_id,
                day=day,
                attribution_setting="",
                currency="EUR",
                spend_minor=minor,
                impressions=1000,
                clicks=10,
                reach=reach,
                conversions=conversions,
                conversion_value_minor=minor * 3,
            )
            for day, (minor, conversions, reach) in days.items()
        ],
        None,
    )
    db.session.commit()


def _goal(campaign, metric, target, direction="at_least", channel=None, deadline=END):
    goal = factories.GoalFactory(
        campaign=campaign,
        metric=metric,
        direction=direction,
        baseline=Decimal(0),
        target=Decimal(target),
        deadline=deadline,
        channel=channel,
    )
    db.session.commit()
    return goal


def _refresh(campaign, today):
    from analytics.services import refresh_goals

    refresh_goals([campaign.id], today=today)
    db.session.commit()


TEN_DAYS = {date(2026, 3, d): (10_000, 5, 800) for d in range(1, 11)}  # 1–10 March


def test_forecast_divides_by_the_days_with_data_not_the_days_elapsed(marketer):
    # Synced through 10 March, looked at on the 11th (today's numbers are not in yet):
    # 50 conversions in 10 days → 50 × 31 / 10 = 155 by 31 March. Dividing by the 11 days
    # elapsed gave 140.9091 (9 % low) and called a 150 target "at risk".
    campaign = make_campaign(marketer)
    _synced(campaign, TEN_DAYS)
    goal = _goal(campaign, "conversions", 150)
    _refresh(campaign, today=date(2026, 3, 11))
    assert goal.current_value == Decimal(50)
    assert goal.forecast_value == Decimal("155.0000")
    assert goal.progress_status == "on_track"


def test_days_a_sync_covered_without_spend_count_as_days_with_data(marketer):
    # Nothing delivered 11–14 March, but the account was synced through the 14th:
    # 14 days with data → 50 × 31 / 14 = 110.7143 (half-even to 4 places).
    campaign = make_campaign(marketer)
    _synced(campaign, TEN_DAYS, through=date(2026, 3, 14))
    goal = _goal(campaign, "conversions", 150)
    _refresh(campaign, today=date(2026, 3, 15))
    assert goal.forecast_value == Decimal("110.7143")
    assert goal.progress_status == "at_risk"


def test_days_with_data_count_from_the_flight_start(marketer):
    # First spend on 5 March, last on 10 March: the flight ran from the 1st, so 10 days
    # (not 6) → 600.00 spent → 600 × 31 / 10 = 1,860.00 by the deadline.
    campaign = make_campaign(marketer)
    _synced(campaign, {date(2026, 3, d): (10_000, 1, 0) for d in range(5, 11)})
    goal = _goal(campaign, "spend", 1800, direction="at_most")
    _refresh(campaign, today=date(2026, 3, 11))
    assert goal.current_value == Decimal("600.00")
    assert goal.forecast_value == Decimal("1860.0000")
    assert goal.progress_status == "at_risk"


def test_a_channel_goal_counts_its_own_channel_days(marketer):
    # Meta synced through the 10th, Google through the 20th: a Meta goal divides by 10 days,
    # an all-channel goal by 20.
    campaign = make_campaign(marketer, channels_csv=",meta_ads,google_ads,")
    _synced(campaign, TEN_DAYS, through=date(2026, 3, 10))
    _synced(
        campaign,
        {date(2026, 3, 20): (0, 10, 0)},
        platform="google_ads",
        through=date(2026, 3, 20),
    )
    meta = _goal(campaign, "conversions", 100, channel="meta_ads")
    every = _goal(campaign, "conversions", 100)
    _refresh(campaign, today=date(2026, 3, 21))
    assert (meta.current_value, meta.forecast_value) == (Decimal(50), Decimal("155.0000"))
    # 60 conversions in 20 days → 60 × 31 / 20 = 93.
    assert (every.current_value, every.forecast_value) == (Decimal(60), Decimal("93.0000"))


def test_after_the_deadline_the_forecast_is_what_happened(marketer):
    campaign = make_campaign(marketer)
    _synced(campaign, TEN_DAYS, through=date(2026, 4, 2))
    goal = _goal(campaign, "conversions", 60, deadline=date(2026, 3, 10))
    _refresh(campaign, today=date(2026, 4, 3))
    assert goal.current_value == Decimal(50) and goal.forecast_value == Decimal("50.0000")
    assert goal.progress_status == "missed"


def test_ratio_goals_forecast_their_current_value(marketer):
    campaign = make_campaign(marketer)
    _synced(campaign, TEN_DAYS)
    goal = _goal(campaign, "roas", 2.5)
    _refresh(campaign, today=date(2026, 3, 11))
    assert goal.current_value == goal.forecast_value == Decimal("3.0000")
    assert goal.progress_status == "on_track"


def test_reach_is_never_summed_nor_projected(marketer, client):
    # 10 days of 800 people reached: the same people, or not — a sum (8,000) or a projection
    # (24,800) would be made up. The goal says "not additive".
    campaign = make_campaign(marketer)
    _synced(campaign, TEN_DAYS)
    goal = _goal(campaign, "reach", 5000)
    _refresh(campaign, today=date(2026, 3, 11))
    assert goal.current_value is None and goal.forecast_value is None
    assert goal.progress_status == "not_additive"
    html = client.get(f"/performance/campaigns/{campaign.id}").get_data(as_text=True)
    row = html.split(f'data-goal="{goal.id}"')[1].split("</tr>")[0]
    assert "not additive" in row and "Reach is not additive" in unescape(row)
    assert "8,000" not in row and "24,800" not in row
    detail = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert "not additive" in detail and "8,000" not in detail


def test_days_with_data_never_pass_today_or_the_deadline():
    from analytics.goals import days_with_data

    start, deadline = date(2026, 3, 1), date(2026, 3, 31)
    assert days_with_data(start, deadline, date(2026, 3, 11), date(2026, 3, 10)) == 10
    assert days_with_data(start, deadline, date(2026, 3, 11), date(2026, 3, 20)) == 11
    assert days_with_data(start, deadline, date(2026, 5, 1), date(2026, 4, 20)) == 31
    assert days_with_data(start, deadline, date(2026, 3, 11), None) == 0
    assert days_with_data(start, deadline, date(2026, 3, 11), date(2026, 2, 20)) == 0
