"""Influencer test fixtures: sample data, a budget allocation stand-in, a live server and
Chromium for the browser test (the suite's session `app`, served from a daemon thread)."""

from __future__ import annotations

import pytest

from core.extensions import db
from core.money import Money
from tests import factories
from tests.matrix_influencers import make_deliverable, make_influencer, make_partnership

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def campaign(users):
    made = factories.CampaignFactory(owner=users["marketer"], name="Spring Launch", status="active")
    db.session.commit()
    return made


@pytest.fixture
def allocation(monkeypatch):
    """Set the campaign's approved influencer allocation: `allocation({"EUR": "5000"})`."""
    amounts: dict[str, Money] = {}

    def fake(campaign_id: int, currency: str) -> Money | None:
        return amounts.get(currency)

    monkeypatch.setattr("budgets.api.influencer_allocation", fake)

    def set_(values: dict[str, str]) -> None:
        amounts.clear()
        amounts.update({cur: Money.of(v, cur) for cur, v in values.items()})

    return set_


@pytest.fixture
def deal(users, campaign):
    """A contracted partnership (EUR 1,000.00, 50 % on contract / 50 % on delivery) with one
    planned deliverable due in three days."""
    influencer = make_influencer("Anna Runs")
    p = make_partnership(influencer, campaign, users["coordinator"], status="contracted")
    d = make_deliverable(p, status="planned")
    db.session.commit()
    return p, d


# --- browser --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def live_url(live_server: str) -> str:
    """The suite's live server (tests/browser_fixtures.py)."""
    return live_server


@pytest.fixture(scope="session")
def chromium(browser):
    """The suite's one Playwright browser (tests/browser_fixtures.py): two sync Playwright
    instances cannot run in one process."""
    return browser


@pytest.fixture
def browser_page(chromium, live_url):
    """A fresh browser context on the live server; script errors and CSP violations fail."""
    context = chromium.new_context(
        base_url=live_url, viewport={"width": 1280, "height": 900}, locale="en-GB"
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"script error: {exc}"))
    page.on(
        "console",
        lambda msg: (
            problems.append(msg.text)
            if msg.type == "error" and "Content Security Policy" in msg.text
            else None
        ),
    )
    yield page
    context.close()
    if problems:
        pytest.fail("the page reported problems:\n" + "\n".join(problems), pytrace=False)
