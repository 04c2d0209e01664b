"""Every route × every role: the expected status, or the test fails.

A route missing from EXPECTED fails `test_every_route_has_expectations`, so a new view cannot
ship without deciding who may use it. Each (role, route) pair runs on fresh data with a
fresh sign-in, so destructive routes do not disturb each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from ads.models import AdAccount, PlatformCampaign, SyncRun
from core.extensions import db
from tests import factories, matrix_budgets, matrix_influencers
from tests.conftest import login

ROLES = ("anonymous", "admin", "marketer", "finance", "coordinator", "viewer")
LOGIN = 302  # anonymous users are sent to the sign-in page


@dataclass(frozen=True)
class Expect:
    method: str
    path: str  # formatted with the sample objects' ids
    statuses: dict[str, int]
    data: dict[str, str] = field(default_factory=dict)


def by_role(default: int, anonymous: int = LOGIN, **overrides: int) -> dict[str, int]:
    result = dict.fromkeys(ROLES, default)
    result["anonymous"] = anonymous
    result.update(overrides)
    return result


READ = by_role(200)
EDIT_OWN = by_role(403, admin=200, marketer=200)
POST_OWN = by_role(403, admin=302, marketer=302)
ADMIN_ONLY = by_role(403, admin=200)

EXPECTED: dict[str, Expect] = {
    "static": Expect("GET", "/static/app.css", by_role(200, anonymous=200)),
    "health": Expect("GET", "/healthz", by_role(200, anonymous=200)),
    "auth.login": Expect("GET", "/login", by_role(302, anonymous=200)),
    "auth.logout": Expect("POST", "/logout", by_role(302)),
    "auth.accept_invite": Expect("GET", "/invite/not-a-token", by_role(404, anonymous=404)),
    "dashboard.index": Expect("GET", "/", READ),
    "admin.users": Expect("GET", "/admin/users", ADMIN_ONLY),
    "admin.user_new": Expect("GET", "/admin/users/new", ADMIN_ONLY),
    "admin.user_edit": Expect("GET", "/admin/users/{viewer_id}", ADMIN_ONLY),
    "admin.user_reinvite": Expect("POST", "/admin/users/{viewer_id}/invite", ADMIN_ONLY),
    "admin.audit": Expect("GET", "/admin/audit", by_role(403, admin=200, finance=200)),
    "campaigns.index": Expect("GET", "/campaigns/", READ),
    "campaigns.calendar": Expect("GET", "/campaigns/calendar", READ),
    "campaigns.detail": Expect("GET", "/campaigns/{campaign_id}", READ),
    "campaigns.create": Expect("GET", "/campaigns/new", EDIT_OWN),
    "campaigns.edit": Expect("GET", "/campaigns/{campaign_id}/edit", EDIT_OWN),
    "campaigns.change_status": Expect(
        "POST", "/campaigns/{campaign_id}/status", POST_OWN, {"to": "planned"}
    ),
    "campaigns.goal_new": Expect("GET", "/campaigns/{campaign_id}/goals/new", EDIT_OWN),
    "campaigns.goal_edit": Expect("GET", "/campaigns/{campaign_id}/goals/{goal_id}/edit", EDIT_OWN),
    "campaigns.goal_delete": Expect(
        "POST", "/campaigns/{campaign_id}/goals/{goal_id}/delete", POST_OWN
    ),
    "ads.accounts": Expect("GET", "/ads/", READ),
    "ads.connect": Expect("GET", "/ads/connect", EDIT_OWN),
    "ads.account": Expect("GET", "/ads/accounts/{account_id}", READ),
    # No token on the sample account: allowed roles are sent back with a message.
    "ads.sync_now": Expect("POST", "/ads/accounts/{account_id}/sync", POST_OWN),
    "ads.runs": Expect("GET", "/ads/runs", READ),
    "ads.run": Expect("GET", "/ads/runs/{run_id}", READ),
    "ads.run_status": Expect("GET", "/ads/runs/{run_id}/status", READ),
    "ads.map_campaign": Expect(
        "POST", "/ads/platform-campaigns/{pc_id}/mapping", POST_OWN, {"campaign_id": ""}
    ),
    "ads.import_csv": Expect("GET", "/ads/import", EDIT_OWN),
    "performance.campaign": Expect("GET", "/performance/campaigns/{campaign_id}", READ),
    "performance.plotly_js": Expect("GET", "/performance/vendor/plotly.min.js", READ),
    # No spend in the window: allowed roles are sent back with a message.
    "performance.export": Expect(
        "GET",
        "/performance/export?since=2026-01-01&until=2026-01-31&format=csv",
        by_role(403, admin=302, marketer=302, finance=302),
    ),
}


EXPECTED.update(matrix_budgets.EXPECTED)
EXPECTED.update(matrix_influencers.EXPECTED)


def test_every_route_has_expectations(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    missing = sorted(endpoints - EXPECTED.keys())
    stale = sorted(EXPECTED.keys() - endpoints)
    assert not missing, f"routes without an expected status per role: {missing}"
    assert not stale, f"expectations for routes that no longer exist: {stale}"


def test_expected_methods_match_routes(app):
    for rule in app.url_map.iter_rules():
        expect = EXPECTED[rule.endpoint]
        assert expect.method in rule.methods, f"{rule.endpoint} does not answer {expect.method}"


@pytest.fixture
def sample(users):
    campaign = factories.CampaignFactory(owner=users["marketer"])
    goal = factories.GoalFactory(campaign=campaign)
    account = AdAccount(platform="google_ads", external_id="123-456-7890", currency="EUR")
    db.session.add(account)
    db.session.flush()
    pc = PlatformCampaign(account_id=account.id, external_id="987", name="Search brand")
    run = SyncRun(account_id=account.id, kind="csv_import", status="succeeded")
    db.session.add_all([pc, run])
    db.session.commit()
    extra = {**matrix_budgets.make_sample(users), **matrix_influencers.make_sample(users)}
    db.session.commit()
    return {
        **extra,
        "campaign_id": campaign.id,
        "goal_id": goal.id,
        "viewer_id": users["viewer"].id,
        "account_id": account.id,
        "pc_id": pc.id,
        "run_id": run.id,
    }


REFUSED = {403, 404, 405}


def _changes_state(expect: Expect, role: str) -> bool:
    """A POST the role may make changes data (or ends the session); refusals change nothing."""
    if expect.method == "GET":
        return False
    return role != "anonymous" and expect.statuses[role] not in REFUSED


def _check(client, expect: Expect, endpoint: str, role: str, sample: dict) -> str | None:
    path = expect.path.format(**sample)
    response = client.open(path, method=expect.method, data=expect.data)
    response.close()  # static files are streamed from an open file
    wanted = expect.statuses[role]
    if response.status_code != wanted:
        got = response.status_code
        return f"{endpoint}: {role} {expect.method} {path} got {got}, want {wanted}"
    to_login = "/login" in response.headers.get("Location", "")
    if role == "anonymous" and wanted == LOGIN and endpoint != "auth.login" and not to_login:
        return f"{endpoint}: anonymous not sent to the sign-in page"
    return None


@pytest.mark.parametrize("role", ROLES)
def test_reads_and_refusals_for_role(app, users, sample, role):
    """Every GET, and every POST the role is refused, on one sign-in (none changes data)."""
    client = app.test_client()
    if role != "anonymous":
        assert login(client, users[role]).status_code == 302
    failures = [
        problem
        for endpoint, expect in sorted(EXPECTED.items())
        if not _changes_state(expect, role)
        and (problem := _check(client, expect, endpoint, role, sample))
    ]
    assert not failures, "\n".join(failures)


ALLOWED_WRITES = sorted(
    (endpoint, role)
    for endpoint, expect in EXPECTED.items()
    for role in ROLES
    if _changes_state(expect, role)
)


@pytest.mark.parametrize(("endpoint", "role"), ALLOWED_WRITES)
def test_allowed_write_for_role(app, users, sample, endpoint, role):
    """Each POST a role may make, on fresh data and a fresh sign-in."""
    client = app.test_client()
    assert login(client, users[role]).status_code == 302
    problem = _check(client, EXPECTED[endpoint], endpoint, role, sample)
    assert problem is None, problem


def test_other_marketer_cannot_touch_a_campaign(app, users, sample):
    """IDOR: a marketer who does not own the campaign gets 403 on every write route."""
    intruder = factories.UserFactory(role="marketer")
    db.session.commit()
    client = app.test_client()
    assert login(client, intruder).status_code == 302
    for endpoint in ("campaigns.edit", "campaigns.goal_new", "campaigns.goal_edit"):
        path = EXPECTED[endpoint].path.format(**sample)
        assert client.get(path).status_code == 403, endpoint
    for endpoint in ("campaigns.change_status", "campaigns.goal_delete"):
        expect = EXPECTED[endpoint]
        path = expect.path.format(**sample)
        assert client.post(path, data=expect.data).status_code == 403, endpoint
    # and nothing changed
    from campaigns.models import Campaign, Goal

    db.session.expire_all()
    assert db.session.get(Campaign, sample["campaign_id"]).status == "draft"
    assert db.session.get(Goal, sample["goal_id"]) is not None
