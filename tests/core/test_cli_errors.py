"""No traceback reaches the command line: every command, given bad input or an unreachable
database or Redis, prints one line on stderr and exits 2, and changes nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import func, select

from ads.models import AdAccount
from config import BASE_DIR
from core.extensions import db
from core.models import User
from tests.core.outages import app_with_database, free_port, refused_database_urls

STRONG = "a-long-enough-password"
ROSTER = "name,instagram\nAda,ada.runs\n"
ORDERS = "order_id,date,amount,currency,promo_code\nA1,2026-03-01,10.00,EUR,ADA10\n"


def assert_one_line_error(result: Result, *fragments: str) -> str:
    """Exit 2, one line on stderr starting with 'Error:', no traceback anywhere."""
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def cli(app: Flask):
    runner = app.test_cli_runner()
    return lambda *args, **kw: runner.invoke(args=list(args), **kw)


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    paths = {"roster": ROSTER, "orders": ORDERS, "ads": "Campaign,Day,Cost\nX,2026-03-01,1\n"}
    for name, text in paths.items():
        (tmp_path / f"{name}.csv").write_text(text)
    return {name: str(tmp_path / f"{name}.csv") for name in paths} | {"dir": str(tmp_path)}


BAD_INPUTS = [
    # users create
    (["users", "create", "--email", "x@example.test", "--role", "wizard", "--password", STRONG],
     "Invalid value for '--role'"),
    (["users", "create", "--email", "x@example.test", "--role", "viewer", "--password", "short"],
     "Use at least 12 characters"),
    (["users", "create", "--email", "x@example.test", "--role", "viewer"],
     "--password is required"),
    (["users", "create", "--role", "viewer"], "Missing option '--email'"),
    # ads connect
    (["ads", "connect", "--account-id", "act_1", "--token", "EAAtoken1234567", "--currency", "ZZZ"],
     "ZZZ is not an ISO 4217 currency code"),
    (["ads", "connect", "--account-id", "act_1", "--token", "two words"],
     "Paste the whole access token"),
    # ads sync
    (["ads", "sync", "--account-id", "99999999999999999999"], "No ad account 9999"),
    (["ads", "sync", "--account-id", "act_404"], "No ad account act_404"),
    # ads import-csv
    (["ads", "import-csv", "--platform", "google_ads", "/nonexistent/ads.csv"], "does not exist"),
    (["ads", "import-csv", "--platform", "myspace_ads", "{ads}"], "Invalid value for '--platform'"),
    (["ads", "import-csv", "--platform", "google_ads", "--currency", "ZZZ", "{ads}"],
     "ZZZ is not an ISO 4217 currency code"),
    (["ads", "import-csv", "--platform", "google_ads", "{dir}"], "is a directory"),
    # ads sandbox
    (["ads", "sandbox", "--port", "99999"], "99999 is not in the range"),
    (["ads", "nonexistent"], "No such command 'nonexistent'"),
    # influencers
    (["influencers", "import-roster", "/nonexistent/roster.csv"], "does not exist"),
    (["influencers", "import-roster", "--currency", "ZZZ", "{roster}"], "ZZZ is not an ISO 4217"),
    (["influencers", "import-roster", "--map", "nope=name", "{roster}"], "no column 'nope'"),
    (["influencers", "import-orders", "/nonexistent/orders.csv"], "does not exist"),
    # exports
    (["export", "performance", "--since", "soon", "--until", "2026-03-31"], "is not a date"),
    (["export", "performance", "--since", "2026-02-30", "--until", "2026-03-31"], "is not a date"),
    (["export", "performance", "--since", "2026-04-01", "--until", "2026-03-01"],
     "--since must be on or before --until"),
    (["export", "performance", "--since", "2026-03-01", "--until", "2026-03-31",
      "--format", "xlsx"], "needs --output"),
    (["export", "performance", "--since", "2026-03-01", "--until", "2026-03-31",
      "--output", "/nonexistent/dir/perf.csv"], "No such file or directory"),
    (["export", "budgets", "--period", "soon"], "is not a period"),
    (["export", "budgets", "--period", "2031-01"], "No budget for 2031-01"),
    # worker
    (["worker", "--burst"], "REDIS_URL is not set"),
    (["worker", "--burst", "-q", "nope"], "no queue nope"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "fragment"), BAD_INPUTS, ids=lambda v: " ".join(v)[:60])
def test_bad_input_is_one_line_and_exit_2(cli, files, users, args, fragment):
    before = db.session.scalar(select(func.count(User.id)))
    result = cli(*(a.format(**files) for a in args))
    assert_one_line_error(result, fragment)
    db.session.rollback()
    assert db.session.scalar(select(func.count(User.id))) == before
    assert db.session.scalar(select(func.count(AdAccount.id))) == 0


def test_a_duplicate_user_is_one_line(cli, users):
    email = users["viewer"].email
    result = cli("users", "create", "--email", email, "--role", "viewer", "--password", STRONG)
    assert_one_line_error(result, "already exists")


def test_worker_with_redis_unreachable_is_one_line(app, monkeypatch, cli):
    port = free_port()
    monkeypatch.setitem(app.config, "REDIS_URL", f"redis://127.0.0.1:{port}/0")
    assert_one_line_error(cli("worker", "--burst"), f"Redis at 127.0.0.1:{port} is unreachable")


NEEDS_DATABASE = [
    ["users", "create", "--email", "x@example.test", "--role", "viewer", "--password", STRONG],
    ["demo", "seed"],
    ["ads", "connect", "--account-id", "act_1", "--token", "EAAtoken1234567"],
    ["ads", "sync", "--account-id", "act_1"],
    ["ads", "import-csv", "--platform", "google_ads", "--account-id", "g1", "--currency", "EUR",
     "{ads}"],
    ["influencers", "import-roster", "{roster}"],
    ["influencers", "import-orders", "{orders}"],
    ["export", "performance", "--since", "2026-03-01", "--until", "2026-03-31"],
    ["export", "budgets", "--period", "2026-Q1"],
]  # fmt: skip
REFUSED = refused_database_urls()


@pytest.fixture(params=sorted(REFUSED))
def down_app(request) -> Iterator[Flask]:
    application = app_with_database(REFUSED[request.param])
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("args", NEEDS_DATABASE, ids=lambda v: " ".join(v[:2]))
def test_unreachable_database_is_one_line_for_every_command(down_app, files, args):
    with down_app.app_context():
        runner = down_app.test_cli_runner()
        result = runner.invoke(args=[a.format(**files) for a in args])
    line = assert_one_line_error(result, "The database is unreachable")
    assert "refused" in line or "unable to open database file" in line


def flask_cli(*args: str, **env: str) -> subprocess.CompletedProcess:
    """The real `flask --app wsgi` entry point in its own process."""
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=BASE_DIR,
        env={**os.environ, "FLIGHTDECK_ENV": "development", "REDIS_URL": "", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_real_entry_point_prints_one_line(database_url):
    cases = [
        (["ads", "sync", "--account-id", "99999999999999999999"], {}, "No ad account 9999"),
        (
            [
                "ads",
                "connect",
                "--account-id",
                "act_9",
                "--token",
                "EAAtok12345",
                "--currency",
                "ZZZ",
            ],
            {},
            "ZZZ is not an ISO 4217 currency code",
        ),
        (["demo", "seed"], {"DATABASE_URL": REFUSED["postgresql"]}, "The database is unreachable"),
        (["users", "create"], {"FLIGHTDECK_ENV": "staging"}, "FLIGHTDECK_ENV='staging'"),
        (["worker"], {"WORKER_MAX_BACKOFF_SECONDS": "soon"}, "must be a number of seconds"),
    ]
    for args, env, fragment in cases:
        done = flask_cli(*args, **{"DATABASE_URL": database_url, **env})
        assert "Traceback" not in done.stderr + done.stdout, done.stderr
        assert done.returncode == 2, (args, done.stderr)
        assert done.stderr.count("\n") == 1 and fragment in done.stderr, (args, done.stderr)
