"""Browser fixtures for the budget flow: the suite's session `app` served on a free port from a
daemon thread, driven by Debian's Chromium through Playwright (no Playwright browser download).
"""

from __future__ import annotations

import pytest

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 10_000


@pytest.fixture(scope="session")
def budgets_live_server(live_server: str) -> str:
    """The suite's live server (tests/browser_fixtures.py)."""
    return live_server


@pytest.fixture(scope="session")
def budgets_browser(browser):
    """The suite's one Playwright browser (tests/browser_fixtures.py): two sync Playwright
    instances cannot run in one process."""
    return browser


@pytest.fixture
def budgets_page(budgets_browser, budgets_live_server):
    context = budgets_browser.new_context(
        base_url=budgets_live_server,
        viewport={"width": 1280, "height": 900},
        locale="en-GB",
        accept_downloads=True,
    )
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()
