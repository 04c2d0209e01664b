"""A marketer plans a campaign end to end in the browser; a viewer cannot edit one."""

from __future__ import annotations

import calendar
import re
from datetime import date

import pytest
from playwright.sync_api import Page, expect

from core.extensions import db
from tests import factories
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

NAME = "Aurora Trail Shoes Launch"


def _path_is(pattern: str) -> re.Pattern[str]:
    """A URL whose path matches `pattern` (a regex), with any query string."""
    return re.compile(rf"^https?://[^/]+{pattern}(\?.*)?$")


def _this_month() -> tuple[date, date]:
    today = date.today()
    last_day = calendar.monthrange(today.year, today.month)[1]
    return today.replace(day=1), today.replace(day=last_day)


def test_marketer_plans_a_campaign_with_a_smart_goal(page: Page, sign_in, users) -> None:
    marketer = users["marketer"]
    start, end = _this_month()
    sign_in(marketer.email, PASSWORD)
    expect(page).to_have_url(_path_is("/"))

    # Create the campaign through the form.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Campaigns").click()
    page.get_by_role("link", name="New campaign", exact=True).click()
    expect(page.get_by_role("heading", name="New campaign")).to_be_visible()
    page.get_by_label("Name", exact=True).fill(NAME)
    page.get_by_label("Objective").select_option(label="Sales")
    expect(page.get_by_label("Meta Ads")).to_be_checked()  # the form's default channel
    page.get_by_label("Influencers").check()
    page.get_by_label("TikTok Ads").check()
    page.get_by_label("Brand").fill("Stride")
    page.get_by_label("Product").fill("AirRun Trail")
    page.get_by_label("Flight start").fill(start.isoformat())
    page.get_by_label("Flight end").fill(end.isoformat())
    page.get_by_label("Currency").select_option("EUR")
    page.get_by_label("Total planned budget").fill("25,000.50")
    page.get_by_role("button", name="Create campaign").click()

    expect(page).to_have_url(_path_is(r"/campaigns/\d+"))
    campaign_url = page.url
    expect(page.get_by_role("heading", level=1)).to_contain_text(NAME)
    expect(page.get_by_role("status")).to_contain_text(f"Campaign “{NAME}” created as a draft")
    facts = page.locator("dl.kv")
    expect(facts).to_contain_text("€25,000.50")
    expect(facts).to_contain_text(f"{start:%d %b %Y} – {end:%d %b %Y}")
    for channel in ("meta ads", "tiktok ads", "influencers"):
        expect(facts.locator(".chip", has_text=channel)).to_have_count(1)

    # A SMART goal that is not achievable: "at least" 2 from a baseline of 3.
    page.get_by_role("link", name="Add goal").click()
    expect(page.get_by_role("heading", name="New SMART goal")).to_be_visible()
    page.get_by_label("Metric").select_option(label="ROAS")
    page.get_by_label("Channel", exact=True).select_option(label="Meta Ads")
    page.get_by_label("Direction").select_option(label="at least")
    page.get_by_label("Baseline").fill("3")
    page.get_by_label("Target").fill("2")
    page.get_by_role("button", name="Save goal").click()

    target_field = page.locator(".field", has=page.get_by_label("Target"))
    expect(target_field).to_have_class(re.compile(r"\bhas-error\b"))
    error = target_field.locator('p.error[data-error-for="target"]')
    expect(error).to_have_text(re.compile(r"For 'at least', the target must be above the baseline"))
    expect(page.locator("p.error")).to_have_count(1)  # only the target is wrong
    expect(page.get_by_label("Baseline")).to_have_value("3")  # input kept, nothing lost

    # Fix it and save.
    page.get_by_label("Target").fill("4.5")
    page.get_by_role("button", name="Save goal").click()
    expect(page).to_have_url(campaign_url)
    expect(page.get_by_role("status")).to_contain_text("Goal saved")
    goal_row = page.locator("table.goals tbody tr")
    expect(goal_row).to_have_count(1)
    expect(goal_row).to_contain_text("ROAS")
    expect(goal_row).to_contain_text("at least")
    expect(goal_row).to_contain_text("3.00×")
    expect(goal_row).to_contain_text("4.50×")

    # The list finds it by search.
    page.goto("/campaigns/")
    page.get_by_role("searchbox", name="Search").fill("aurora trail")
    page.get_by_role("button", name="Apply").click()
    listing = page.locator("#campaign-list tbody tr")
    expect(listing).to_have_count(1)
    expect(listing.get_by_role("link", name=NAME)).to_be_visible()
    expect(listing).to_contain_text("draft")
    expect(listing).to_contain_text("€25,000.50")

    # The month view shows its flight.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Calendar").click()
    month = page.locator("#calendar")
    expect(month.locator("a.flight.starts")).to_have_text(NAME)
    expect(month.locator("a.flight.ends")).to_have_count(1)
    month.locator("a.flight.starts").click()
    expect(page).to_have_url(campaign_url)

    # draft -> planned -> active through the status buttons.
    page.get_by_role("button", name="Mark planned").click()
    expect(page.get_by_role("status")).to_have_text(f"“{NAME}” is now planned.")
    expect(page.get_by_role("heading", level=1).locator(".status")).to_have_text("planned")
    page.get_by_role("button", name="Activate").click()
    expect(page.get_by_role("status")).to_have_text(f"“{NAME}” is now active.")
    expect(page.get_by_role("heading", level=1).locator(".status")).to_have_text("active")
    expect(page.get_by_role("button", name="Pause")).to_be_visible()
    expect(page.get_by_role("button", name="Activate")).to_have_count(0)

    # A second goal, then removed again by its own (labelled) button.
    page.get_by_role("link", name="Add goal").click()
    page.get_by_label("Metric").select_option(label="CPA")
    page.get_by_label("Direction").select_option(label="at most")
    page.get_by_label("Baseline").fill("40")
    page.get_by_label("Target").fill("27.50")
    page.get_by_role("button", name="Save goal").click()
    goals = page.locator("table.goals tbody tr")
    expect(goals).to_have_count(2)
    expect(goals.filter(has_text="CPA")).to_contain_text("€27.50")
    page.once("dialog", lambda dialog: dialog.accept())  # "Remove the CPA goal? …"
    page.get_by_role("button", name="Remove the CPA goal").click()
    expect(page.get_by_role("status")).to_have_text("Goal removed.")
    expect(goals).to_have_count(1)
    # The last goal of a running campaign stays.
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Remove the ROAS (meta ads) goal").click()
    expect(page.get_by_role("status")).to_have_text("A running campaign keeps at least one goal.")
    expect(goals).to_have_count(1)

    # paused ⇄ active, then completed and archived: read-only from then on.
    page.get_by_role("button", name="Pause").click()
    expect(page.get_by_role("status")).to_have_text(f"“{NAME}” is now paused.")
    page.get_by_role("button", name="Resume").click()
    expect(page.get_by_role("status")).to_have_text(f"“{NAME}” is now active.")
    page.get_by_role("button", name="Complete").click()
    expect(page.get_by_role("heading", level=1).locator(".status")).to_have_text("completed")
    expect(page.get_by_role("link", name="Add goal")).to_have_count(0)
    page.once("dialog", lambda dialog: dialog.accept())  # archiving asks first
    page.get_by_role("button", name="Archive").click()
    expect(page.get_by_role("status")).to_have_text(f"“{NAME}” is now archived.")
    expect(page.get_by_role("link", name="Edit", exact=True)).to_have_count(0)
    expect(page.locator("main").get_by_role("button")).to_have_count(0)


def test_viewer_gets_not_allowed_page_on_edit(page: Page, sign_in, users) -> None:
    campaign = factories.CampaignFactory(owner=users["marketer"], name="Owned by the marketer")
    db.session.commit()
    sign_in(users["viewer"].email, PASSWORD)
    expect(page).to_have_url(_path_is("/"))

    response = page.goto(f"/campaigns/{campaign.id}/edit")
    assert response is not None and response.status == 403
    expect(page).to_have_title(re.compile(r"^Not allowed · Flightdeck$"))
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    expect(page.get_by_text("Your role does not allow this.")).to_be_visible()
    # Rendered inside the app layout: the signed-in navigation and role badge are there.
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    expect(page.get_by_title("Your role")).to_have_text("Viewer")
    expect(page.get_by_role("textbox")).to_have_count(0)  # no edit form leaked
    page.get_by_role("link", name="Back to the dashboard").click()
    expect(page).to_have_url(_path_is("/"))
