"""Each role signs in through the real form and sees exactly its navigation."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

EVERYONE = frozenset({"admin", "marketer", "finance", "coordinator", "viewer"})
# Every main-navigation link, in page order, with the roles that must see it. A link added by a
# new feature fails this test until it is listed here: the navigation is checked exactly.
NAV_LINKS: list[tuple[str, frozenset[str]]] = [
    ("Dashboard", EVERYONE),
    ("Campaigns", EVERYONE),
    ("Calendar", EVERYONE),
    ("Budgets", EVERYONE),  # budget.view; each role sees only its lines
    ("Finance", frozenset({"admin", "finance", "viewer"})),  # finance.view: the dashboard
    ("Influencers", EVERYONE),
    ("Partnerships", EVERYONE),
    ("Ad accounts", EVERYONE),  # ads.view: everyone reads ad accounts
    ("Audit log", frozenset({"admin", "finance"})),
    ("Users", frozenset({"admin"})),
]
NAV_BY_ROLE = {
    role: [label for label, roles in NAV_LINKS if role in roles]
    for role in ("admin", "marketer", "finance", "coordinator", "viewer")
}
CAN_CREATE = {"admin", "marketer"}
ROLE_LABELS = {
    "admin": "Admin",
    "marketer": "Marketer",
    "finance": "Finance",
    "coordinator": "Influencer coordinator",
    "viewer": "Viewer",
}


def _path_is(path: str) -> re.Pattern[str]:
    """A URL whose path is exactly `path` (any query string)."""
    return re.compile(rf"^https?://[^/]+{re.escape(path)}(\?.*)?$")


@pytest.mark.parametrize("role", list(NAV_BY_ROLE))
def test_role_sees_its_navigation_and_signs_out(page: Page, sign_in, users, role: str) -> None:
    user = users[role]
    sign_in(user.email, PASSWORD)

    expect(page).to_have_url(_path_is("/"))
    expect(page.get_by_role("heading", name=f"Good to see you, {user.name}")).to_be_visible()
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link")).to_have_text(NAV_BY_ROLE[role])
    expect(page.get_by_title("Your role")).to_have_text(ROLE_LABELS[role])

    nav.get_by_role("link", name="Campaigns").click()
    expect(page).to_have_url(_path_is("/campaigns/"))
    expect(page.get_by_role("heading", name="Campaigns", exact=True)).to_be_visible()
    new_campaign = page.get_by_role("link", name="New campaign", exact=True)
    expect(new_campaign).to_have_count(1 if role in CAN_CREATE else 0)

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(_path_is("/login"))
    expect(page.get_by_role("status")).to_have_text("You are signed out.")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main")).to_have_count(0)

    page.goto("/campaigns/")
    expect(page).to_have_url(_path_is("/login"))
    assert "next=%2Fcampaigns%2F" in page.url
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()


def test_wrong_password_is_refused(page: Page, sign_in, users) -> None:
    sign_in(users["marketer"].email, "not the password")

    expect(page).to_have_url(_path_is("/login"))
    expect(page.get_by_role("alert")).to_have_text("Email or password is incorrect.")
    expect(page.get_by_role("navigation", name="Main")).to_have_count(0)
    page.goto("/")
    expect(page).to_have_url(_path_is("/login"))
