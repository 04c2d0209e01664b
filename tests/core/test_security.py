"""CSRF, security headers, cookie flags, production config checks and error pages."""

from __future__ import annotations

import contextvars
import re
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from campaigns.models import Campaign
from config import ConfigError, ProductionConfig
from core.app import create_app
from core.extensions import db
from core.models import LoginAttempt, User
from tests.conftest import PASSWORD, login, make_app


class IsolatedClient(FlaskClient):
    """Every request in its own app context, as on a server (see tests/core/test_auth.py)."""

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture(autouse=True)
def _isolated_requests(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app, "test_client_class", IsolatedClient)


def dispose(application: Flask) -> None:
    with application.app_context():
        db.engine.dispose()


@pytest.fixture
def csrf_app(database_url: str) -> Iterator[Flask]:
    application = make_app(database_url, WTF_CSRF_ENABLED=True)
    yield application
    dispose(application)


@pytest.fixture
def production_env(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    monkeypatch.setenv("SECRET_KEY", "a-long-random-production-secret-key-for-tests")
    monkeypatch.setenv("FLIGHTDECK_ENCRYPTION_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.delenv("REDIS_URL", raising=False)


@pytest.fixture
def production_app(production_env) -> Iterator[Flask]:
    application = create_app(ProductionConfig)
    yield application
    dispose(application)


TOKEN_RE = re.compile(r'name="csrf_token"[^>]*?value="([^"]+)"')


def csrf_token(client: FlaskClient, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    match = TOKEN_RE.search(page.get_data(as_text=True))
    assert match, f"no csrf_token on {path}"
    return match.group(1)


def csrf_login(client: FlaskClient, user: User) -> None:
    token = csrf_token(client, "/login")
    response = client.post(
        "/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:300]


def assert_form_expired(response) -> None:
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Form expired" in text
    assert "Reload and retry" in text


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def signed_in(client: FlaskClient) -> bool:
    return client.get("/").status_code == 200


# --- CSRF -------------------------------------------------------------------------------------


def test_login_without_csrf_token_is_refused(csrf_app, users):
    client = csrf_app.test_client()
    response = client.post("/login", data={"email": users["admin"].email, "password": PASSWORD})
    assert_form_expired(response)
    assert not signed_in(client)
    assert count(LoginAttempt) == 0

    csrf_login(client, users["admin"])
    assert signed_in(client)


def test_csrf_token_of_another_session_is_refused(csrf_app, users):
    attacker = csrf_app.test_client()
    token = csrf_token(attacker, "/login")
    victim = csrf_app.test_client()
    victim.get("/login")
    response = victim.post(
        "/login", data={"email": users["admin"].email, "password": PASSWORD, "csrf_token": token}
    )
    assert_form_expired(response)
    assert not signed_in(victim)


def test_logout_without_csrf_token_is_refused(csrf_app, users):
    client = csrf_app.test_client()
    csrf_login(client, users["viewer"])
    assert_form_expired(client.post("/logout"))
    assert signed_in(client)

    token = csrf_token(client, "/")  # the sign-out button in the top bar
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302
    assert not signed_in(client)


def _campaign_form() -> dict[str, str]:
    start = date.today() + timedelta(days=7)
    return {
        "name": "Spring launch",
        "objective": "sales",
        "channels": "meta_ads",
        "start_date": start.isoformat(),
        "end_date": (start + timedelta(days=30)).isoformat(),
        "currency": "EUR",
        "planned_budget": "1000",
        "owner_id": "",
    }


def test_campaign_create_without_csrf_token_is_refused(csrf_app, users):
    client = csrf_app.test_client()
    csrf_login(client, users["marketer"])
    assert_form_expired(client.post("/campaigns/new", data=_campaign_form()))
    assert count(Campaign) == 0

    data = _campaign_form() | {"csrf_token": csrf_token(client, "/campaigns/new")}
    data["owner_id"] = str(users["marketer"].id)
    response = client.post("/campaigns/new", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert count(Campaign) == 1


def test_user_create_without_csrf_token_is_refused(csrf_app, users):
    client = csrf_app.test_client()
    csrf_login(client, users["admin"])
    before = count(User)
    data = {"email": "mallory@example.com", "name": "Mallory", "role": "admin"}
    assert_form_expired(client.post("/admin/users/new", data=data))
    assert count(User) == before

    data["csrf_token"] = csrf_token(client, "/admin/users/new")
    response = client.post("/admin/users/new", data=data)
    assert response.status_code == 200
    assert "Invitation for mallory@example.com" in response.get_data(as_text=True)
    assert count(User) == before + 1


def test_csrf_failure_answers_json_clients_in_json(csrf_app, users):
    client = csrf_app.test_client()
    response = client.post(
        "/login",
        data={"email": users["admin"].email, "password": PASSWORD},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 400
    assert response.is_json
    assert response.get_json()["error"] == "Form expired"


# --- headers and cookies -------------------------------------------------------------------


def assert_security_headers(response) -> None:
    csp = response.headers.get("Content-Security-Policy", "")
    assert "frame-ancestors 'none'" in csp
    assert "default-src 'self'" in csp
    assert "unsafe-eval" not in csp
    assert "object-src 'none'" in csp
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
    assert response.headers.get("Referrer-Policy") in {
        "no-referrer",
        "same-origin",
        "strict-origin",
        "strict-origin-when-cross-origin",
    }
    assert response.headers.get("X-Frame-Options") == "DENY"


def test_security_headers_on_pages_and_error_pages(client, users):
    assert_security_headers(client.get("/login"))
    not_found = client.get("/no-such-page")
    assert not_found.status_code == 404
    assert_security_headers(not_found)
    login(client, users["viewer"])
    page = client.get("/campaigns/")
    assert page.status_code == 200
    assert_security_headers(page)
    forbidden = client.get("/admin/users")
    assert forbidden.status_code == 403
    assert_security_headers(forbidden)


def _cookie(response, name: str) -> str:
    found = [c for c in response.headers.getlist("Set-Cookie") if c.startswith(f"{name}=")]
    assert found, response.headers.getlist("Set-Cookie")
    return found[-1]


def test_session_cookie_is_http_only_and_same_site_lax(client, users):
    cookie = _cookie(login(client, users["viewer"]), "session")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_production_cookies_are_secure(production_app, users):
    client = production_app.test_client()
    page = client.get("/login", base_url="https://localhost")
    session_cookie = _cookie(page, "session")
    assert "Secure" in session_cookie
    assert "HttpOnly" in session_cookie
    assert "SameSite=Lax" in session_cookie
    assert "max-age" in page.headers.get("Strict-Transport-Security", "")

    token = TOKEN_RE.search(page.get_data(as_text=True)).group(1)
    response = client.post(
        "/login",
        base_url="https://localhost",
        headers={"Referer": "https://localhost/login"},  # Flask-WTF checks it over HTTPS
        data={
            "email": users["finance"].email,
            "password": PASSWORD,
            "remember": "y",
            "csrf_token": token,
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    assert "Secure" in _cookie(response, "session")
    remember = _cookie(response, "remember_token")
    assert "Secure" in remember and "HttpOnly" in remember


def test_admin_pages_are_not_stored(client, users):
    login(client, users["admin"])
    for path in ("/admin/users", "/admin/users/new", f"/admin/users/{users['viewer'].id}"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "no-store" in response.headers.get("Cache-Control", ""), path
    audit = client.get("/admin/audit")
    assert audit.status_code == 200
    assert "no-store" in audit.headers.get("Cache-Control", "")


# --- production configuration -------------------------------------------------------------


@pytest.mark.parametrize("missing", ["SECRET_KEY", "FLIGHTDECK_ENCRYPTION_KEY"])
@pytest.mark.parametrize("how", ["unset", "empty"])
def test_production_refuses_to_start_without_a_secret(production_env, monkeypatch, missing, how):
    if how == "unset":
        monkeypatch.delenv(missing)
    else:
        monkeypatch.setenv(missing, "")
    with pytest.raises(ConfigError) as excinfo:
        create_app(ProductionConfig)
    message = str(excinfo.value)
    assert f"without {missing}." in message
    other = ({"SECRET_KEY", "FLIGHTDECK_ENCRYPTION_KEY"} - {missing}).pop()
    assert other not in message


def test_flightdeck_env_production_selects_the_checks(production_env, monkeypatch):
    monkeypatch.setenv("FLIGHTDECK_ENV", "production")
    monkeypatch.delenv("SECRET_KEY")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app()


def test_unknown_flightdeck_env_is_refused(monkeypatch):
    monkeypatch.setenv("FLIGHTDECK_ENV", "prod")
    with pytest.raises(ConfigError, match="FLIGHTDECK_ENV='prod' is not one of"):
        create_app()


# --- error pages ----------------------------------------------------------------------------


def test_404_renders_in_the_layout(client):
    response = client.get("/definitely/not/here")
    assert response.status_code == 404
    text = response.get_data(as_text=True)
    assert 'class="brand"' in text and "Flightdeck" in text
    assert "Not found" in text
    assert "There is nothing at this address" in text


def test_403_renders_in_the_layout(client, users):
    login(client, users["viewer"])
    response = client.get("/admin/users")
    assert response.status_code == 403
    text = response.get_data(as_text=True)
    assert 'class="brand"' in text and "Flightdeck" in text
    assert "Your role does not allow this" in text


def test_405_renders_in_the_layout(client, users):
    login(client, users["viewer"])
    response = client.get("/logout")
    assert response.status_code == 405
    assert "Not allowed here" in response.get_data(as_text=True)


SECRET_DETAIL = "database password is hunter2"


@pytest.fixture
def crashing_app(database_url: str) -> Iterator[Flask]:
    application = make_app(database_url, PROPAGATE_EXCEPTIONS=False)

    @application.route("/boom")
    def boom():
        db.session.add(User(email="half@example.com", name="Half written", role="viewer"))
        db.session.flush()
        raise RuntimeError(SECRET_DETAIL)

    @application.route("/boom-db")
    def boom_db():
        db.session.add(User(email="half@example.com", name="Half written", role="viewer"))
        db.session.add(User(email="viewer@example.test", name="Duplicate", role="viewer"))
        db.session.flush()  # IntegrityError: the email is taken
        return "unreachable"

    yield application
    dispose(application)


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/boom", 500, "nothing was saved"),
        # A unique-key clash is a conflict to retry, not a crash.
        ("/boom-db", 409, "Someone saved a conflicting change"),
    ],
)
def test_unexpected_error_gives_a_plain_page_and_saves_nothing(
    crashing_app, users, path, status, message
):
    client = crashing_app.test_client()
    login(client, users["viewer"])
    response = client.get(path)
    assert response.status_code == status
    text = response.get_data(as_text=True)
    assert message in text
    assert 'class="brand"' in text and "Viewer Tester" in text  # the layout, signed in
    leaks = (
        "Traceback",
        SECRET_DETAIL,
        "RuntimeError",
        "IntegrityError",
        'File "',
        ".py",
        "/work/",
        "INSERT INTO",
        "UNIQUE",
        "duplicate key",
    )
    for leak in leaks:
        assert leak not in text, leak
    assert_security_headers(response)
    assert db.session.scalar(select(User).where(User.email == "half@example.com")) is None


def test_unexpected_error_for_a_json_client(crashing_app, users):
    client = crashing_app.test_client()
    login(client, users["viewer"])
    response = client.get("/boom", headers={"Accept": "application/json"})
    assert response.status_code == 500
    assert response.is_json
    body = response.get_json()
    assert body["error"] == "Something went wrong"
    assert SECRET_DETAIL not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("role", "path", "status", "title"),
    [
        (None, "/no-such-page", 404, "Not found"),
        ("viewer", "/admin/users", 403, "Not allowed"),
        ("viewer", "/logout", 405, "Not allowed here"),
    ],
)
def test_json_clients_get_json_errors(client, users, role, path, status, title):
    if role:
        login(client, users[role])
    response = client.get(path, headers={"Accept": "application/json"})
    assert response.status_code == status
    assert response.is_json
    body = response.get_json()
    assert body["error"] == title
    assert body["message"]


def test_development_secrets_are_per_installation(tmp_path, monkeypatch):
    """Without SECRET_KEY the dev config makes its own secret in instance/, never a public one."""
    import config

    monkeypatch.setattr(config, "INSTANCE_DIR", tmp_path)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("FLIGHTDECK_ENCRYPTION_KEY", raising=False)
    first = config.DevConfig()
    second = config.DevConfig()
    assert first.SECRET_KEY == second.SECRET_KEY == (tmp_path / ".secret_key").read_text()
    assert len(first.SECRET_KEY) >= 40
    assert (tmp_path / ".secret_key").stat().st_mode & 0o077 == 0
    from cryptography.fernet import Fernet

    Fernet(first.FLIGHTDECK_ENCRYPTION_KEY)  # a valid key


def test_production_refuses_an_invalid_encryption_key(monkeypatch):
    import config

    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.setenv("FLIGHTDECK_ENCRYPTION_KEY", "not-a-fernet-key")
    with pytest.raises(config.ConfigError, match="Fernet"):
        config.ProductionConfig().validate()


def test_nul_characters_get_a_message_not_a_500(client, login_as):
    login_as("marketer")
    response = client.get("/campaigns/?q=abc%00def")
    assert response.status_code == 400
    assert "NUL" in response.get_data(as_text=True)
    posted = client.post("/campaigns/new", data={"name": "Bad\x00name"})
    assert posted.status_code == 400


def test_huge_ids_and_pages_are_not_found_not_errors(client, login_as):
    login_as("admin")
    assert client.get("/admin/users/99999999999999999999").status_code == 404
    assert client.get("/campaigns/2147483648").status_code == 404
    assert client.get("/admin/audit?page=99999999999999999999").status_code == 200
    assert client.get("/campaigns/?q=a&q=b%00").status_code == 400
