"""Degraded, not broken: with PostgreSQL (or the SQLite file) unreachable every page answers a
503 page that needs no database, with Retry-After; with Redis unreachable pages still render;
/healthz says which dependency is down; the app recovers without a restart."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from rq import Queue, Worker
from sqlalchemy import select

from core.extensions import db
from core.jobs import redis_connection
from tests.conftest import PASSWORD, login
from tests.core.outages import TcpProxy, app_with_database, free_port, refused_database_urls

REFUSED = refused_database_urls()


@pytest.fixture(params=sorted(REFUSED))
def down_app(request) -> Iterator[Flask]:
    """An app whose database refuses every connection (closed port / missing directory)."""
    application = app_with_database(REFUSED[request.param])
    yield application
    with application.app_context():
        db.engine.dispose()


def signed_in(down: Flask, client: FlaskClient, user) -> FlaskClient:
    """A browser that signed in while the database was up (same secret key), now talking to
    the app whose database is gone."""
    assert login(client, user).status_code == 302
    browser = down.test_client()
    browser.set_cookie("session", client.get_cookie("session").value)
    return browser


def assert_outage_page(response, title: str = "Database unavailable") -> str:
    page = response.get_data(as_text=True)
    assert response.status_code == 503, page[:300]
    assert int(response.headers["Retry-After"]) > 0
    assert title in page and "Internal Server Error" not in page
    assert "Sign out" not in page  # drawn without the user, who needs the database
    return page


@pytest.mark.parametrize("path", ["/", "/campaigns/", "/ads/", "/budgets/", "/admin/users"])
def test_signed_in_pages_are_a_503_page_when_the_database_refuses(down_app, client, users, path):
    browser = signed_in(down_app, client, users["admin"])
    page = assert_outage_page(browser.get(path))
    assert f'href="{path}">Try again' in page


def test_json_clients_get_json_and_forms_get_no_retry_link(down_app, client, users):
    browser = signed_in(down_app, client, users["marketer"])
    response = browser.get("/", headers={"Accept": "application/json"})
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert response.get_json()["error"] == "Database unavailable"
    page = assert_outage_page(browser.post("/campaigns/new", data={"name": "Spring"}))
    assert "Try again" not in page  # re-posting from an error page would lose the form


def test_sign_in_page_renders_and_signing_in_is_a_503(down_app):
    anonymous = down_app.test_client()
    page = anonymous.get("/login")
    assert page.status_code == 200 and "Sign in" in page.get_data(as_text=True)
    assert_outage_page(anonymous.post("/login", data={"email": "a@b.c", "password": PASSWORD}))


def test_a_404_or_a_csrf_refusal_for_a_signed_in_user_is_the_503_page(down_app, client, users):
    browser = signed_in(down_app, client, users["viewer"])
    # Their error pages extend base.html, which needs the user (the database).
    assert_outage_page(browser.get("/no-such-page"))
    down_app.config["WTF_CSRF_ENABLED"] = True
    assert_outage_page(browser.post("/logout", data={}))


def test_healthz_names_the_database_when_it_refuses(down_app):
    response = down_app.test_client().get("/healthz")
    body = response.get_json()
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert body["status"] == "unavailable"
    database = body["checks"]["database"]
    assert database["ok"] is False
    assert "refused" in database["error"] or "unable to open" in database["error"]


def test_healthz_ok_without_redis_configured(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok" and list(body["checks"]) == ["database"]
    assert body["checks"]["database"]["ok"] is True
    assert response.headers["Cache-Control"] == "no-store"


@pytest.fixture
def redis_app(database_url, redis_url) -> Iterator[Flask]:
    application = app_with_database(database_url, REDIS_URL=redis_url)
    yield application
    with application.app_context():
        db.engine.dispose()


def test_healthz_counts_workers_and_is_degraded_without_one(redis_app):
    browser = redis_app.test_client()
    degraded = browser.get("/healthz")
    body = degraded.get_json()
    assert degraded.status_code == 200 and body["status"] == "degraded"
    assert body["checks"]["redis"]["ok"] is True
    assert body["checks"]["workers"] == {**body["checks"]["workers"], "ok": False}
    assert browser.get("/healthz?strict=1").status_code == 503

    with redis_app.app_context():
        conn = redis_connection()
        worker = Worker([Queue("default", connection=conn)], connection=conn)
        worker.register_birth()  # what a running worker has done
    try:
        healthy = browser.get("/healthz?strict=1")
        assert healthy.status_code == 200
        assert healthy.get_json()["checks"]["workers"]["count"] == 1
        assert healthy.get_json()["status"] == "ok"
    finally:
        worker.register_death()


@pytest.fixture
def redis_down_app(database_url) -> Iterator[Flask]:
    application = app_with_database(database_url, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    yield application
    with application.app_context():
        db.engine.dispose()


def test_pages_render_and_healthz_is_degraded_with_redis_unreachable(redis_down_app, client, users):
    browser = signed_in(redis_down_app, client, users["admin"])
    for path in ("/", "/campaigns/", "/ads/", "/ads/runs", "/budgets/", "/influencers/"):
        response = browser.get(path)
        assert response.status_code == 200, (path, response.status_code)
    health = browser.get("/healthz")
    body = health.get_json()
    assert health.status_code == 200 and body["status"] == "degraded"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["redis"]["ok"] is False and "refused" in body["checks"]["redis"]["error"]


def test_a_redis_error_anywhere_in_a_request_is_a_503_not_a_500(database_url, client, users):
    application = app_with_database(database_url, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")

    @application.route("/_queue-probe")
    def queue_probe():
        redis_connection().ping()
        return "reached"

    browser = signed_in(application, client, users["marketer"])
    response = browser.get("/_queue-probe")
    page = response.get_data(as_text=True)
    assert response.status_code == 503 and "Job queue unavailable" in page
    # The database is fine, so the app's own page (with its navigation) is shown.
    assert "Sign out" in page
    with application.app_context():
        db.engine.dispose()


def test_a_database_error_in_an_after_request_hook_is_a_503(client, users):
    # As on a server: testing mode would re-raise an error escaping the request instead.
    application = app_with_database(REFUSED["postgresql"], PROPAGATE_EXCEPTIONS=False)

    @application.after_request
    def touches_the_database(response):
        db.session.execute(select(1))
        return response

    assert_outage_page(application.test_client().get("/login"))


@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgres"),
    reason="a TCP proxy in front of PostgreSQL (the SQLite suite has no server to cut)",
)
def test_postgres_cut_mid_session_is_a_503_and_recovers_without_a_restart(database_url, users):
    proxy = TcpProxy.for_url(database_url)
    proxy.restore()
    application = app_with_database(proxy.url_through(database_url))
    browser = application.test_client()
    try:
        assert login(browser, users["finance"]).status_code == 302
        assert browser.get("/budgets/").status_code == 200
        assert browser.get("/healthz").status_code == 200

        proxy.cut()  # the pooled connection dies with it, new ones are refused
        assert_outage_page(browser.get("/budgets/"))
        down = browser.get("/healthz")
        assert down.status_code == 503 and down.get_json()["status"] == "unavailable"

        proxy.restore()  # same port: the app is not restarted
        assert browser.get("/budgets/").status_code == 200
        up = browser.get("/healthz")
        assert up.status_code == 200 and up.get_json()["status"] == "ok"
    finally:
        proxy.cut()
        with application.app_context():
            db.engine.dispose()
