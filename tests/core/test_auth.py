"""Sign-in, sign-out, throttling, `next` redirects, remember-me and invitations."""

from __future__ import annotations

import contextvars
import re
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from core.extensions import db
from core.models import User
from tests.conftest import PASSWORD, login


class IsolatedClient(FlaskClient):
    """Every request in its own app context, as on a server.

    The suite's autouse fixture keeps an app context open for the whole test, and Flask reuses
    it for requests: `g` (Flask-Login's user, the CSRF token) and the db session would then
    leak from one request, and one client, to the next.
    """

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture(autouse=True)
def _isolated_requests(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app, "test_client_class", IsolatedClient)


WRONG = "not the right password"
INCORRECT = "Email or password is incorrect."
TOO_MANY = "Too many failed sign-in attempts"


def post_login(
    client: FlaskClient,
    email: str,
    password: str = PASSWORD,
    ip: str = "127.0.0.1",
    **extra: str,
):
    return client.post(
        "/login",
        data={"email": email, "password": password, **extra},
        environ_base={"REMOTE_ADDR": ip},
    )


def is_signed_in(client: FlaskClient) -> bool:
    """What a user sees: the dashboard (200) or a redirect to the sign-in page."""
    response = client.get("/")
    if response.status_code == 200:
        return True
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/login"
    return False


def copy_cookie(app: Flask, source: FlaskClient, name: str) -> FlaskClient:
    """A new browser holding only a copy of one cookie of `source` (what a thief would have)."""
    cookie = source.get_cookie(name)
    assert cookie is not None, f"no {name} cookie"
    thief = app.test_client()
    thief.set_cookie(name, cookie.value)
    return thief


# --- sign-in messages ---------------------------------------------------------------------


def test_login_success_goes_to_dashboard_and_shows_the_user(client, users):
    response = login(client, users["finance"])
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    page = client.get("/")
    assert page.status_code == 200
    assert "Finance Tester" in page.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, users["finance"].id).last_login_at is not None


def test_email_is_matched_case_insensitively(client, users):
    response = post_login(client, "  MARKETER@Example.TEST ")
    assert response.status_code == 302
    assert is_signed_in(client)


@pytest.mark.parametrize("email", ["marketer@example.test", "nobody@example.test"])
def test_wrong_password_and_unknown_email_get_the_same_message(client, users, email):
    response = post_login(client, email, WRONG)
    assert response.status_code == 401
    assert INCORRECT in response.get_data(as_text=True)
    assert not is_signed_in(client)


def test_empty_form_is_refused(client, users):
    response = client.post("/login", data={"email": "", "password": ""})
    assert response.status_code == 400
    assert "This field is required." in response.get_data(as_text=True)
    assert not is_signed_in(client)


# --- session fixation -----------------------------------------------------------------------


def test_login_clears_a_planted_session(client, users):
    with client.session_transaction() as sess:
        sess["planted"] = "attacker value"
        sess["_fresh"] = False
    before = client.get_cookie("session").value

    response = login(client, users["marketer"])
    assert response.status_code == 302

    after = client.get_cookie("session").value
    assert after != before
    with client.session_transaction() as sess:
        assert "planted" not in sess
        assert sess["_user_id"].startswith(f"{users['marketer'].id}:")


# --- next ---------------------------------------------------------------------------------

EVIL_NEXT = [
    "//evil.com",
    "/\\evil.com",
    "https:evil.com",
    "https://evil.com/x",
    "http://localhost.evil.com",
    "/%5Cevil.com",
    "/%2F/evil.com",
    "\t//evil.com",
    "/\t/evil.com",
    "javascript:alert(1)",
]


def test_next_on_the_same_host_is_followed(client, users):
    response = post_login(client, users["marketer"].email, next="/campaigns/?status=active")
    assert response.status_code == 302
    assert response.headers["Location"] == "/campaigns/?status=active"


def test_login_required_round_trip_returns_to_the_page(client, users):
    bounced = client.get("/campaigns/calendar")
    assert bounced.status_code == 302
    login_url = bounced.headers["Location"]
    assert urlsplit(login_url).path == "/login"
    form = client.get(login_url)
    assert 'value="/campaigns/calendar"' in form.get_data(as_text=True)
    response = post_login(client, users["viewer"].email, next="/campaigns/calendar")
    assert response.headers["Location"] == "/campaigns/calendar"


@pytest.mark.parametrize("target", EVIL_NEXT)
def test_foreign_next_is_refused_on_login(client, users, target):
    response = post_login(client, users["marketer"].email, next=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert is_signed_in(client)


@pytest.mark.parametrize("target", EVIL_NEXT)
def test_foreign_next_is_refused_when_already_signed_in(client, users, target):
    login(client, users["marketer"])
    response = client.get("/login", query_string={"next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_same_host_next_is_followed_when_already_signed_in(client, users):
    login(client, users["marketer"])
    response = client.get("/login", query_string={"next": "/campaigns/"})
    assert response.headers["Location"] == "/campaigns/"


# --- throttling: tests/security/test_12_02_lockout.py ------------------------------------


# --- deactivation ---------------------------------------------------------------------------


def test_deactivated_user_cannot_sign_in(client, users):
    user = users["marketer"]
    user.active = False
    db.session.commit()
    response = login(client, user)
    assert response.status_code == 401
    # The same answer as a wrong password: tests/security/test_12_10_deactivated_oracle.py
    assert "Email or password is incorrect." in response.get_data(as_text=True)
    assert not is_signed_in(client)


def test_session_of_a_user_deactivated_by_an_admin_ends(app, users):
    marketer, admin = app.test_client(), app.test_client()
    login(marketer, users["marketer"])
    login(admin, users["admin"])
    assert is_signed_in(marketer)
    response = admin.post(
        f"/admin/users/{users['marketer'].id}",
        data={"name": "Marketer Tester", "role": "marketer"},  # "active" unticked
    )
    assert response.status_code == 302
    assert not is_signed_in(marketer)


def test_session_of_a_user_deactivated_outside_the_app_ends(client, users):
    login(client, users["marketer"])
    assert is_signed_in(client)
    users["marketer"].active = False  # e.g. by SQL or a script: the session token is unchanged
    db.session.commit()
    assert not is_signed_in(client)


# --- logout ---------------------------------------------------------------------------------


def test_logout_is_post_only(client, users):
    login(client, users["viewer"])
    response = client.get("/logout")
    assert response.status_code == 405
    assert is_signed_in(client)


def test_logout_invalidates_a_copied_session_cookie(app, client, users):
    login(client, users["marketer"])
    assert is_signed_in(copy_cookie(app, client, "session"))  # the copy works before logout
    stolen = copy_cookie(app, client, "session")

    response = client.post("/logout")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/login"
    assert "You are signed out." in client.get("/login").get_data(as_text=True)
    assert not is_signed_in(client)
    assert not is_signed_in(stolen)


def test_remember_me_cookie_is_http_only_and_dies_at_logout(app, client, users):
    response = post_login(client, users["finance"].email, remember="y")
    assert response.status_code == 302
    cookies = response.headers.getlist("Set-Cookie")
    remember = [c for c in cookies if c.startswith("remember_token=")]
    assert remember, cookies
    assert "HttpOnly" in remember[0]
    assert "SameSite=Lax" in remember[0]

    assert is_signed_in(copy_cookie(app, client, "remember_token"))
    stolen = copy_cookie(app, client, "remember_token")

    client.post("/logout")
    assert not is_signed_in(client)
    assert not is_signed_in(stolen)


def test_without_remember_me_no_remember_cookie_is_set(client, users):
    response = login(client, users["finance"])
    assert not any(c.startswith("remember_token=") for c in response.headers.getlist("Set-Cookie"))


# --- invitations ----------------------------------------------------------------------------


def test_invitation_flow(app, client, users):
    login(client, users["admin"])
    response = client.post(
        "/admin/users/new",
        data={"email": "New.Person@Example.com", "name": "New Person", "role": "viewer"},
    )
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "Invitation for new.person@example.com" in text
    link = re.search(r'value="(http://localhost/invite/[^"]+)"', text).group(1)
    invited = db.session.scalar(select(User).where(User.email == "new.person@example.com"))
    assert invited is not None and invited.password_hash is None

    # No password works before the invitation is accepted.
    assert post_login(app.test_client(), invited.email, "").status_code == 400
    assert post_login(app.test_client(), invited.email, PASSWORD).status_code == 401

    invitee = app.test_client()
    path = urlsplit(link).path
    page = invitee.get(path)
    assert page.status_code == 200
    assert "Welcome, New Person" in page.get_data(as_text=True)

    short = invitee.post(path, data={"password": "short", "confirm": "short"})
    assert short.status_code == 200
    assert "at least 12 characters" in short.get_data(as_text=True)
    differ = invitee.post(path, data={"password": PASSWORD, "confirm": PASSWORD + "!"})
    assert "Passwords differ." in differ.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, invited.id).password_hash is None

    done = invitee.post(path, data={"password": PASSWORD, "confirm": PASSWORD})
    assert done.status_code == 302
    assert done.headers["Location"] == "/"
    dashboard = invitee.get("/")
    assert dashboard.status_code == 200
    assert "Welcome to Flightdeck. Your password is set." in dashboard.get_data(as_text=True)
    assert "New Person" in dashboard.get_data(as_text=True)

    again = app.test_client().get(path)
    assert again.status_code == 404
    assert "This invitation link is not valid" in again.get_data(as_text=True)
    reuse = app.test_client().post(path, data={"password": "x" * 20, "confirm": "x" * 20})
    assert reuse.status_code == 404

    assert post_login(app.test_client(), invited.email, PASSWORD).status_code == 302


def test_tampered_invitation_is_refused(client):
    response = client.get("/invite/not-a-real-token")
    assert response.status_code == 404
    assert "This invitation link is not valid" in response.get_data(as_text=True)
