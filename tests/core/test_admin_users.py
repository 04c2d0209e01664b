"""User administration: create, roles, deactivation, the last admin, access, the CLI."""

from __future__ import annotations

import contextvars
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from core.extensions import db
from core.models import Role, User
from tests.conftest import PASSWORD, login
from tests.factories import UserFactory


class IsolatedClient(FlaskClient):
    """Every request in its own app context, as on a server (see tests/core/test_auth.py)."""

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture(autouse=True)
def _isolated_requests(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app, "test_client_class", IsolatedClient)


def user_by_email(email: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.email == email))


def user_count() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(User.id)))


def errors_of(response) -> str:
    return response.get_data(as_text=True)


def redirects_to_login(client: FlaskClient, path: str = "/") -> bool:
    response = client.get(path)
    return response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/login"


def edit(client: FlaskClient, user: User, **fields: str):
    data = {"name": user.name, "role": user.role, "active": "y" if user.active else ""}
    data.update(fields)
    data = {k: v for k, v in data.items() if v != ""}
    return client.post(f"/admin/users/{user.id}", data=data)


# --- creating users ---------------------------------------------------------------------------


def test_admin_creates_a_user_with_a_password_who_can_sign_in(app, client, users):
    login(client, users["admin"])
    response = client.post(
        "/admin/users/new",
        data={
            "email": "Dana@Example.com",
            "name": "Dana Finance",
            "role": "finance",
            "password": PASSWORD,
        },
    )
    assert response.status_code == 302
    assert "dana@example.com can now sign in." in client.get("/admin/users").get_data(as_text=True)
    created = user_by_email("dana@example.com")
    assert created is not None
    assert created.role == "finance" and created.active

    dana = app.test_client()
    assert login(dana, "dana@example.com").status_code == 302
    assert "Dana Finance" in dana.get("/").get_data(as_text=True)


def test_duplicate_email_is_refused_with_a_clear_message(client, users):
    login(client, users["admin"])
    response = client.post(
        "/admin/users/new",
        data={"email": "dup@example.com", "name": "First", "role": "viewer", "password": PASSWORD},
    )
    assert response.status_code == 302
    before = user_count()
    response = client.post(
        "/admin/users/new",
        data={"email": "DUP@example.com", "name": "Second", "role": "admin", "password": PASSWORD},
    )
    assert response.status_code == 400
    assert "A user with email dup@example.com already exists." in errors_of(response)
    assert user_count() == before
    assert user_by_email("dup@example.com").name == "First"


def test_invalid_role_is_refused(client, users):
    login(client, users["admin"])
    before = user_count()
    response = client.post(
        "/admin/users/new",
        data={"email": "root@example.com", "name": "Root", "role": "superuser"},
    )
    assert response.status_code == 400
    assert "Not a valid choice" in errors_of(response)
    assert user_count() == before
    assert user_by_email("root@example.com") is None


def test_short_password_is_refused(client, users):
    login(client, users["admin"])
    response = client.post(
        "/admin/users/new",
        data={"email": "shorty@example.com", "name": "Shorty", "role": "viewer", "password": "abc"},
    )
    assert response.status_code == 400
    assert 'data-error-for="password">Field must be between 12 and 1024' in errors_of(response)
    assert user_by_email("shorty@example.com") is None


def test_invalid_email_is_refused(client, users):
    login(client, users["admin"])
    before = user_count()
    response = client.post(
        "/admin/users/new", data={"email": "not-an-email", "name": "X", "role": "viewer"}
    )
    assert response.status_code == 400
    assert "must have an @-sign" in errors_of(response)
    assert user_count() == before


@pytest.mark.parametrize("email", ["new.person@flightdeck.test", "ops@corp.internal"])
def test_internal_company_domains_are_accepted(client, users, email):
    """Self-hosted companies use internal domains; only the syntax is checked."""
    login(client, users["admin"])
    response = client.post(
        "/admin/users/new",
        data={"email": email, "name": "Internal", "role": "viewer", "password": PASSWORD},
    )
    assert response.status_code == 302
    assert user_by_email(email) is not None


# --- editing users ---------------------------------------------------------------------------


def test_role_change_ends_the_changed_users_session(app, client, users):
    login(client, users["admin"])
    marketer = app.test_client()
    login(marketer, users["marketer"])
    assert marketer.get("/campaigns/new").status_code == 200

    response = edit(client, users["marketer"], role="viewer")
    assert response.status_code == 302
    assert user_by_email("marketer@example.test").role == "viewer"
    assert redirects_to_login(marketer, "/campaigns/new")

    # Signing in again gives the new role's rights.
    login(marketer, users["marketer"])
    assert marketer.get("/campaigns/new").status_code == 403


def test_name_change_keeps_the_session(app, client, users):
    login(client, users["admin"])
    viewer = app.test_client()
    login(viewer, users["viewer"])
    assert edit(client, users["viewer"], name="Renamed Viewer").status_code == 302
    page = viewer.get("/")
    assert page.status_code == 200
    assert "Renamed Viewer" in page.get_data(as_text=True)


def test_admin_deactivates_a_user(app, client, users):
    login(client, users["admin"])
    finance = app.test_client()
    login(finance, users["finance"])

    response = edit(client, users["finance"], active="")
    assert response.status_code == 302
    assert user_by_email("finance@example.test").active is False
    assert "Deactivated" in client.get("/admin/users").get_data(as_text=True)
    assert redirects_to_login(finance)
    refused = login(app.test_client(), users["finance"])
    assert refused.status_code == 401
    assert "Email or password is incorrect." in refused.get_data(as_text=True)

    # Reactivated, they can sign in again.
    assert edit(client, users["finance"], active="y").status_code == 302
    assert login(app.test_client(), users["finance"]).status_code == 302


@pytest.mark.parametrize(
    "change", [{"role": "viewer"}, {"active": ""}], ids=["demote", "deactivate"]
)
def test_the_last_active_admin_cannot_be_demoted_or_deactivated(client, users, change):
    admin = users["admin"]
    login(client, admin)
    response = edit(client, admin, **change)
    assert response.status_code == 400
    assert "This is the last active admin: keep at least one." in errors_of(response)
    kept = user_by_email(admin.email)
    assert kept.role == "admin" and kept.active
    assert client.get("/admin/users").status_code == 200


def test_an_admin_can_be_demoted_when_another_active_admin_exists(app, client, users):
    second = UserFactory(email="second-admin@example.com", name="Second Admin", role="admin")
    inactive = UserFactory(email="old-admin@example.com", role="admin", active=False)
    db.session.commit()
    assert inactive.id  # an inactive admin does not count as "another admin"
    login(client, users["admin"])
    response = edit(client, second, role="finance")
    assert response.status_code == 302
    assert user_by_email("second-admin@example.com").role == "finance"
    refused = edit(client, users["admin"], role="finance")
    assert refused.status_code == 400
    assert user_by_email(users["admin"].email).role == "admin"


def test_a_pending_invitation_does_not_count_as_another_admin(client, users):
    # Invited as admin but never signed in: no password yet, so nobody could administer.
    invited = UserFactory(email="invited-admin@example.com", role="admin", password_hash=None)
    db.session.commit()
    login(client, users["admin"])
    response = edit(client, users["admin"], role="viewer")
    assert response.status_code == 400
    assert "This is the last active admin: keep at least one." in errors_of(response)
    assert user_by_email(users["admin"].email).role == "admin"
    # The invitation itself may still be changed.
    assert edit(client, invited, role="marketer").status_code == 302


def test_the_new_user_form_starts_at_the_least_privileged_role(client, users):
    login(client, users["admin"])
    html = client.get("/admin/users/new").get_data(as_text=True)
    role_select = html.split('name="role"')[1].split("</select>")[0]
    assert '<option selected value="viewer">Viewer</option>' in role_select
    assert "selected" not in role_select.replace('<option selected value="viewer">', "")


def test_unknown_user_id_is_404_for_an_admin(client, users):
    login(client, users["admin"])
    assert client.get("/admin/users/999999").status_code == 404
    assert client.post("/admin/users/999999", data={"name": "x", "role": "viewer"}).status_code == (
        404
    )


# --- access ----------------------------------------------------------------------------------


def _admin_user_routes(app: Flask, target_id: int) -> list[tuple[str, str]]:
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin/users"):
            continue
        url = rule.rule.replace("<int:user_id>", str(target_id))
        assert "<" not in url, f"unexpected argument in {rule.rule}"
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append((method, url))
    return routes


@pytest.mark.parametrize("role", [r.value for r in Role if r is not Role.ADMIN])
def test_non_admins_get_403_on_every_user_admin_route(app, client, users, role):
    target = users["admin"]
    routes = _admin_user_routes(app, target.id)
    endpoints = {
        rule.endpoint for rule in app.url_map.iter_rules() if rule.rule.startswith("/admin/users")
    }
    assert {"admin.users", "admin.user_new", "admin.user_edit", "admin.user_reinvite"} <= endpoints
    before = user_count()
    login(client, users[role])
    for method, url in routes:
        response = client.open(
            url,
            method=method,
            data={"email": "x@example.com", "name": "Hijack", "role": role, "password": PASSWORD},
        )
        assert response.status_code == 403, (method, url)
        assert "Your role does not allow this" in response.get_data(as_text=True)
    assert user_count() == before
    kept = user_by_email(target.email)
    assert kept.role == "admin" and kept.name == target.name


def test_anonymous_visitors_are_sent_to_sign_in(app, client, users):
    for method, url in _admin_user_routes(app, users["admin"].id):
        response = client.open(url, method=method)
        assert response.status_code == 302, (method, url)
        assert urlsplit(response.headers["Location"]).path == "/login"


# --- CLI ---------------------------------------------------------------------------------------


def run_cli(app: Flask, *args: str):
    return app.test_cli_runner().invoke(args=["users", "create", *args])


def test_cli_creates_a_user_who_can_sign_in(app, client):
    result = run_cli(app, "--email", "Ops@Example.com", "--role", "finance", "--password", PASSWORD)
    assert result.exit_code == 0, result.output
    assert "Created finance ops@example.com" in result.output
    created = user_by_email("ops@example.com")
    assert created.role == "finance" and created.name == "ops"
    assert login(client, "ops@example.com").status_code == 302


def test_cli_refuses_a_duplicate(app):
    first = run_cli(app, "--email", "a@example.com", "--role", "viewer", "--password", PASSWORD)
    assert first.exit_code == 0, first.output
    result = run_cli(app, "--email", "A@example.com", "--role", "admin", "--password", PASSWORD)
    assert result.exit_code != 0
    assert "A user with email a@example.com already exists." in result.output
    assert user_count() == 1
    assert user_by_email("a@example.com").role == "viewer"


@pytest.mark.parametrize("password", ["short", "", "x" * 11])
def test_cli_refuses_a_short_password(app, password):
    result = run_cli(app, "--email", "b@example.com", "--role", "viewer", "--password", password)
    assert result.exit_code != 0
    assert "Use at least 12 characters." in result.output
    assert user_by_email("b@example.com") is None


def test_cli_refuses_an_unknown_role(app):
    result = run_cli(app, "--email", "c@example.com", "--role", "root", "--password", PASSWORD)
    assert result.exit_code != 0
    assert "Invalid value for '--role'" in result.output
    assert user_by_email("c@example.com") is None


def test_cli_needs_a_password_when_not_interactive(app):
    result = run_cli(app, "--email", "d@example.com", "--role", "viewer")
    assert result.exit_code != 0
    assert "--password is required" in result.output
    assert user_by_email("d@example.com") is None
