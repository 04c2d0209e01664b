"""An admin invites a user, gives them a role and finds the change in the audit log; the
last admin cannot demote themselves; an ad account's token is replaced, never shown."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from ads import services
from ads.models import AdAccount
from core.extensions import db
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_admin_invites_sets_a_role_and_finds_it_in_the_audit_log(
    page: Page, sign_in, users
) -> None:
    sign_in(users["admin"].email, PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Users").click()
    page.get_by_role("link", name="Invite or create a user").click()

    # A forgotten role choice grants nothing.
    expect(page.get_by_label("Role")).to_have_value("viewer")
    page.get_by_label("Email").fill("nora.new@example.test")
    page.get_by_label("Name").fill("Nora New")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Invitation created for nora.new@")
    expect(page.get_by_label("Invitation link")).to_have_value(re.compile(r"/invite/"))

    page.get_by_role("link", name="Back to users").click()
    row = page.locator("tr", has_text="nora.new@example.test")
    expect(row).to_contain_text("Viewer")
    expect(row).to_contain_text("invited")
    row.get_by_role("link", name="Edit").click()
    page.get_by_label("Role").select_option(label="Marketer")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("nora.new@example.test updated.")
    expect(page.locator("tr", has_text="nora.new@example.test")).to_contain_text("Marketer")

    # The audit log: its filters are labelled, and they find the role change.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit log").click()
    page.get_by_role("searchbox", name="Search").fill("Nora New")
    page.get_by_label("Object type").select_option("User")
    page.get_by_role("button", name="Filter").click()
    entries = page.locator("table.audit tbody tr")
    expect(entries).to_have_count(2)  # created, then the role change
    expect(entries.first).to_contain_text("update")
    expect(entries.first.locator("ul.changes")).to_contain_text("role: viewer → marketer")

    page.get_by_role("searchbox", name="Search").fill("nobody-by-this-name")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("No change matches these filters.")).to_be_visible()
    page.get_by_role("link", name="Show every change").click()
    expect(page.get_by_role("searchbox", name="Search")).to_have_value("")


def test_the_last_admin_is_told_why_they_cannot_demote_themselves(
    page: Page, sign_in, users
) -> None:
    admin = users["admin"]
    sign_in(admin.email, PASSWORD)
    page.goto("/admin/users")
    page.locator("tr", has_text=admin.email).get_by_role("link", name="Edit").click()
    page.get_by_label("Role").select_option(label="Viewer")
    page.get_by_role("button", name="Save").click()
    role_field = page.locator(".field", has=page.get_by_label("Role"))
    expect(role_field.locator("p.error")).to_have_text(
        "This is the last active admin: keep at least one."
    )
    expect(page.get_by_title("Your role")).to_have_text("Admin")


def test_admin_replaces_an_ad_account_token_without_seeing_either(
    page: Page, sign_in, users
) -> None:
    old, new = "EAAB-old-token-0123456789", "EAAB-new-token-9876543210"
    account = services.connect_meta_account("act_4242", old, name="Stride DE", currency="EUR")
    db.session.commit()
    sign_in(users["admin"].email, PASSWORD)
    page.goto(f"/ads/accounts/{account.id}")
    expect(page.locator("dl.kv")).to_contain_text("stored, encrypted")
    page.get_by_role("link", name="Replace access token").click()

    expect(page.get_by_role("heading", name="Replace the access token")).to_be_visible()
    expect(page.get_by_label("Ad account id")).to_have_value("act_4242")
    expect(page.get_by_label("Name")).to_have_value("Stride DE")
    expect(page.get_by_label("Account currency")).to_have_value("EUR")
    expect(page.get_by_label("Access token")).to_have_value("")
    assert old not in page.content()
    page.get_by_label("Access token").fill(new)
    page.get_by_role("button", name="Save the new token").click()

    expect(page).to_have_url(re.compile(rf"/ads/accounts/{account.id}$"))
    expect(page.get_by_role("status")).to_have_text(
        "New access token stored for Stride DE (act_4242), encrypted."
    )
    assert new not in page.content() and old not in page.content()
    db.session.expire_all()
    stored = db.session.get(AdAccount, account.id)
    assert services.account_token(stored) == new
    assert new not in (stored.token_encrypted or "")
