"""Browser fixtures shared by every browser test (one Playwright per session, as it must be):
the suite's `app` served on a real port, driven by Debian's Chromium.

`live_server` serves the SAME session `app` (and so the same database) from a werkzeug server
in a daemon thread: rows a test creates and commits are what the browser sees, and the
autouse truncation in tests/conftest.py cleans up after each test as usual.

Playwright's own browser download is not used: we launch the system `chromium`. A missing
Chromium fails the tests with instructions rather than skipping them silently.
"""

from __future__ import annotations

import logging
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from flask import Flask
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    expect,
    sync_playwright,
)
from werkzeug.serving import make_server

DEFAULT_TIMEOUT_MS = 10_000
VIEWPORT = {"width": 1280, "height": 800}
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",  # we run as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MISSING_CHROMIUM = (
    "Chromium is not on PATH and the browser tests need it: "
    "install Debian's chromium: apt-get install chromium"
)


def chromium_path() -> str | None:
    return shutil.which("chromium")


@contextmanager
def serve(app: Flask) -> Iterator[str]:
    """Serve `app` on a free local port in a daemon thread; yield its base URL."""
    # One line per request on stderr is noise in test output; errors still show.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@contextmanager
def launch_chromium(executable: str) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def live_server(app: Flask) -> Iterator[str]:
    with serve(app) as base_url:
        yield base_url


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    executable = chromium_path()
    if executable is None:
        pytest.fail(MISSING_CHROMIUM, pytrace=False)
    expect.set_options(timeout=DEFAULT_TIMEOUT_MS)
    with launch_chromium(executable) as chromium:
        yield chromium


@pytest.fixture
def context(browser: Browser, live_server: str) -> Iterator[BrowserContext]:
    ctx = browser.new_context(base_url=live_server, viewport=VIEWPORT, locale="en-GB")
    ctx.set_default_timeout(DEFAULT_TIMEOUT_MS)
    ctx.set_default_navigation_timeout(DEFAULT_TIMEOUT_MS)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    """A fresh page; an uncaught script error or a CSP violation fails the test."""
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            problems.append(f"CSP violation: {message.text}")

    new_page = context.new_page()
    new_page.on("pageerror", lambda exc: problems.append(f"script error: {exc}"))
    new_page.on("console", on_console)
    yield new_page
    if problems:
        pytest.fail("the page reported problems:\n" + "\n".join(problems), pytrace=False)


def fill_login_form(page: Page, email: str, password: str) -> None:
    """Use the real login form, as a person would."""
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()


@pytest.fixture
def sign_in(page: Page) -> Callable[[str, str], None]:
    """`sign_in(email, password)` through the login form on this test's page."""

    def _sign_in(email: str, password: str) -> None:
        fill_login_form(page, email, password)

    return _sign_in
