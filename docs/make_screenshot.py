"""Regenerate docs/screenshot-campaigns.png: the campaign list with the demo data.

    .venv/bin/python docs/make_screenshot.py

Builds a throwaway SQLite database with the real migrations, seeds the demo data, serves the
app on a local port, signs in as the demo marketer through the login form and takes a
full-page 1280×800 screenshot with Debian's Chromium (the browser tests' own helpers).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "screenshot-campaigns.png"
MARKETER = "marketer@flightdeck.test"


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from flask_migrate import upgrade

    from config import TestConfig
    from core.app import create_app
    from core.demo import seed
    from core.extensions import db
    from tests.browser_fixtures import (
        DEFAULT_TIMEOUT_MS,
        MISSING_CHROMIUM,
        VIEWPORT,
        chromium_path,
        fill_login_form,
        launch_chromium,
        serve,
    )

    executable = chromium_path()
    if executable is None:
        print(MISSING_CHROMIUM, file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="flightdeck-screenshot-") as tmp:
        os.environ["TEST_DATABASE_URL"] = f"sqlite:///{Path(tmp) / 'screenshot.db'}"
        app = create_app(TestConfig)
        try:
            with app.app_context():
                upgrade()
                summary = seed()
                db.session.commit()
                password = app.config["DEMO_PASSWORD"]
            with serve(app) as base_url, launch_chromium(executable) as browser:
                context = browser.new_context(base_url=base_url, viewport=VIEWPORT, locale="en-GB")
                context.set_default_timeout(DEFAULT_TIMEOUT_MS)
                try:
                    page = context.new_page()
                    fill_login_form(page, MARKETER, password)
                    page.wait_for_url(f"{base_url}/")
                    page.goto("/campaigns/")
                    page.locator("#campaign-list").wait_for()
                    page.screenshot(path=str(OUTPUT), full_page=True)
                finally:
                    context.close()
        finally:
            with app.app_context():
                db.engine.dispose()
    print(f"seeded {summary}; wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
