"""Issue 12.9: passwords are refused, with the reason, when they are common (bundled list of
~20,000), a common one dressed up, repetitive, a keyboard or alphabet run, or built from the
account's own email address or name; everywhere a password is set."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from core.auth import services
from core.extensions import db
from core.models import User
from tests.conftest import PASSWORD, login

ADA = ("ada.lovelace@company.example", "Ada Lovelace")

COMMON = "on a list of common passwords"
DRESSED = "is a common password"
REPEATS = "repeats a few characters"
RUN = "a run of the alphabet, the digits or a keyboard row"
OWN = "built from your email address or name"


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("aaaaaaaaaaaa", REPEATS),
        ("password1234", COMMON),
        ("Password1234!", DRESSED),
        ("!!iloveyou2026", DRESSED),
        ("Qwertyuiop-77", DRESSED),
        ("abcabcabcabc", REPEATS),
        ("121212121212", REPEATS),
        ("123456789012", RUN),
        ("abcdefghijkl", RUN),
        ("Ada.Lovelace2026!", OWN),
        ("lovelace-1815-1852", OWN),
        ("company-password", OWN),
        ("short", "at least 12 characters"),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(password, reason):
    from core.auth.policy import password_problem

    problem = password_problem(password, *ADA)
    assert problem and reason in problem, (password, problem)


@pytest.mark.parametrize(
    "password",
    [
        PASSWORD,  # the suite's "correct horse battery staple"
        "Lovelace runs the engine notes daily",
        "9f!Kq-2#x7Lm",
        "tuesday-gravel-orbit-55",
    ],
)
def test_good_passwords_pass(password):
    from core.auth.policy import password_problem

    assert password_problem(password, *ADA) is None


def test_the_bundled_list_is_big_and_includes_the_classics():
    from core.auth.policy import common_passwords

    common = common_passwords()
    assert len(common) > 15_000
    assert {"password", "123456", "qwerty", "iloveyou", "password1234"} <= common


def error_for(response, field: str) -> str:
    match = re.search(
        rf'data-error-for="{field}">([^<]*)<', response.get_data(as_text=True).replace("&#34;", '"')
    )
    return match.group(1) if match else ""


def test_the_admin_form_says_why_beside_the_password(client, users):
    login(client, users["admin"])
    response = client.post(
        "/admin/users/new",
        data={
            "email": "ada.lovelace@company.example",
            "name": "Ada Lovelace",
            "role": "viewer",
            "password": "AdaLovelace1815",
        },
    )
    assert response.status_code == 400
    assert OWN in error_for(response, "password")
    assert db.session.scalar(select(User).where(User.email == ADA[0])) is None


def test_accepting_an_invitation_refuses_a_common_password(app, client, users):
    invited = services.create_user("new.person@example.com", "New Person", "viewer")
    db.session.commit()
    path = f"/invite/{services.invite_token(invited)}"
    response = app.test_client().post(
        path, data={"password": "password1234", "confirm": "password1234"}
    )
    assert response.status_code == 200
    assert COMMON in error_for(response, "password")
    db.session.expire_all()
    assert db.session.get(User, invited.id).password_hash is None


def test_the_cli_refuses_a_weak_password(app):
    result = app.test_cli_runner().invoke(
        args=["users", "create", "--email", "b@example.com", "--role", "viewer"]
        + ["--password", "aaaaaaaaaaaa"]
    )
    assert result.exit_code != 0
    assert REPEATS in result.output
    assert db.session.scalar(select(User).where(User.email == "b@example.com")) is None
