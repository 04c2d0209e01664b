"""In Chromium, as a coordinator: import a roster, create a partnership, move a deliverable to
published with a proof URL (a marketer approves the content, an admin verifies the proof), see
the gated payment become payable, mark it paid."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

from core.extensions import db
from tests import factories
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

ROSTER = (
    "Name,Instagram,Instagram followers,Instagram engagement,TikTok,Niche,Country,Rate reel\n"
    "Mara Moves,@mara.moves,48.2k,4.1%,maramoves,running; yoga,DE,1200\n"
    "Theo Trails,theo.trails,12000,2.9,,outdoor,AT,450\n"
    "Broken Row,not a handle!,lots,,,,,\n"
)


def sign_in(page: Page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def flash(page: Page):
    return page.locator(".flash").first


def test_coordinator_runs_a_partnership_end_to_end(
    browser_page: Page, chromium, live_url, users, allocation
):
    page = browser_page
    campaign = factories.CampaignFactory(
        owner=users["marketer"], name="Trail Run Launch", status="active"
    )
    db.session.commit()
    allocation({"EUR": "5000"})

    # 1. Import a roster: preview first, then import; the bad row is listed, not dropped.
    sign_in(page, users["coordinator"].email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Influencers").click()
    page.get_by_role("link", name="Import CSV").click()
    page.get_by_label("CSV file").set_input_files(
        files=[{"name": "roster.csv", "mimeType": "text/csv", "buffer": ROSTER.encode()}]
    )
    page.get_by_role("button", name="Upload and preview").click()
    expect(page.locator('[data-count="created"]')).to_have_text("2")
    expect(page.locator('[data-count="rejected"]')).to_have_text("1")
    expect(page.locator("#row-errors")).to_contain_text("not a handle!")
    page.get_by_role("button", name=re.compile(r"^Import 2 rows")).click()
    expect(page.get_by_role("heading", name="Roster imported")).to_be_visible()
    page.get_by_role("link", name="See the roster").click()
    page.get_by_role("link", name="Mara Moves").click()
    expect(page.locator("#handles")).to_contain_text("@mara.moves")

    # 2. A partnership on the campaign: 1,500 EUR, half on contract, half on delivery.
    page.get_by_role("link", name="New partnership").click()
    page.get_by_label("Campaign").select_option(label="Trail Run Launch")
    page.get_by_label("Fee").fill("1,500.00")
    page.get_by_label("Payment plan").select_option(
        label="50% on contract, 50% on verified deliverables"
    )
    page.get_by_role("button", name="Create partnership").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Mara Moves × Trail Run Launch")
    page.get_by_role("button", name="Start negotiating").click()
    page.get_by_role("button", name="Mark contracted").click()
    expect(flash(page)).to_contain_text("is now contracted")
    delivery = page.locator("#milestones tr", has_text="50% on delivery")
    expect(delivery.locator(".status")).to_have_text("pending")
    expect(delivery).to_contain_text("waits for verification")

    # 3. A deliverable, its draft submitted.
    page.get_by_role("link", name="Add deliverable").click()
    page.get_by_label("Type").select_option(label="Reel")
    page.get_by_label("Platform").select_option(label="Instagram")
    page.get_by_label("Due date").fill((date.today() + timedelta(days=5)).isoformat())
    page.get_by_role("button", name="Add deliverable").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Reel on Instagram")
    deliverable_url = page.url
    page.get_by_label("Draft or content link").fill("https://drive.example.com/mara/reel-v1")
    page.get_by_role("button", name="Submit draft").click()
    expect(page.locator("#waiting")).to_contain_text("Waiting for a marketer to approve")

    # 4. The marketer approves the content (coordinators cannot).
    marketer_context = chromium.new_context(base_url=live_url)
    marketer = marketer_context.new_page()
    sign_in(marketer, users["marketer"].email)
    marketer.goto(deliverable_url)
    marketer.get_by_label("Comments").first.fill("Love the trail shots.")
    marketer.get_by_role("button", name="Approve content").click()
    expect(marketer.locator(".flash").first).to_contain_text("is now approved")
    marketer_context.close()

    # 5. Published, then verified with a proof URL on Instagram (a TikTok link is refused).
    page.goto(deliverable_url)
    page.get_by_role("button", name="Mark published").click()
    expect(flash(page)).to_contain_text("is now published")
    tiktok = "https://www.tiktok.com/@maramoves/video/1"
    page.get_by_label("Proof-of-post URL").fill(tiktok)
    page.get_by_role("button", name="Save proof of post").click()
    # The refusal sits beside the field, which keeps what was typed.
    proof_field = page.locator(".field", has=page.get_by_label("Proof-of-post URL"))
    expect(proof_field).to_have_class(re.compile(r"\bhas-error\b"))
    expect(proof_field.locator('p.error[data-error-for="proof_url"]')).to_contain_text(
        "The proof must be a link on Instagram"
    )
    expect(page.get_by_label("Proof-of-post URL")).to_have_value(tiktok)
    expect(page.locator("h1 .status")).to_have_text("published")

    # A metric that is not a number is refused beside its field too; nothing is saved.
    page.get_by_label("Impressions").fill("lots")
    page.get_by_label("Likes").fill("120")
    page.get_by_role("button", name="Save metrics").click()
    impressions = page.locator("#metrics div", has=page.get_by_label("Impressions"))
    expect(impressions.locator('p.error[data-error-for="impressions"]')).to_contain_text(
        "not a number"
    )
    expect(page.get_by_label("Likes")).to_have_value("120")
    page.get_by_label("Impressions").fill("48,000")
    page.get_by_role("button", name="Save metrics").click()
    expect(flash(page)).to_have_text("Metrics saved.")
    expect(page.get_by_label("Impressions")).to_have_value("48000")

    page.get_by_label("Proof-of-post URL").fill("https://www.instagram.com/reel/C7mara/")
    page.get_by_role("button", name="Save proof of post").click()
    expect(flash(page)).to_contain_text("Proof of post saved")
    # Whoever gave the proof does not verify it.
    expect(page.get_by_role("button", name="Verify proof of post")).to_have_count(0)
    expect(page.locator("#verify-note")).to_contain_text("an admin verifies it")

    # 6. An admin (someone else) verifies the proof.
    admin_context = chromium.new_context(base_url=live_url)
    admin = admin_context.new_page()
    sign_in(admin, users["admin"].email)
    admin.goto(deliverable_url)
    admin.get_by_role("button", name="Verify proof of post").click()
    expect(flash(admin)).to_contain_text("is now verified")
    expect(admin.locator("#proof")).to_contain_text("https://www.instagram.com/reel/C7mara/")
    admin_context.close()

    # 7. The gated payment is now payable; the coordinator marks it paid.
    page.goto(deliverable_url)
    page.get_by_role("link", name=re.compile(r"Mara Moves × Trail Run Launch")).click()
    delivery = page.locator("#milestones tr", has_text="50% on delivery")
    expect(delivery.locator(".status")).to_have_text("payable")
    delivery.get_by_label("Paid on").fill(date.today().isoformat())
    delivery.get_by_label("Payment reference").fill("TRX-2026-0042")
    delivery.get_by_role("button", name="Mark paid").click()
    expect(flash(page)).to_contain_text("marked paid")
    delivery = page.locator("#milestones tr", has_text="50% on delivery")
    expect(delivery.locator(".status")).to_have_text("paid")
    expect(delivery).to_contain_text("TRX-2026-0042")
    assert campaign.id
