"""Issue 12.10: a deactivated account does not tell a guesser that the password was right.

The right and a wrong password get the same status, message and throttling, unless the
administrator chose to tell (LOGIN_TELL_DEACTIVATED / FLIGHTDECK_LOGIN_TELL_DEACTIVATED, off by
default), and then only the right password hears it.
"""

from __future__ import annotations

import re

import pytest

import config
from core.extensions import db
from tests.conftest import PASSWORD

WRONG = "not the right password"


def alert(response) -> str:
    match = re.search(r'role="alert">([^<]*)<', response.get_data(as_text=True))
    return match.group(1) if match else ""


@pytest.fixture
def deactivated(users):
    user = users["marketer"]
    user.active = False
    db.session.commit()
    return user


def attempt(app, email: str, password: str, ip: str = "198.51.100.40"):
    return app.test_client().post(
        "/login", data={"email": email, "password": password}, environ_base={"REMOTE_ADDR": ip}
    )


def test_right_and_wrong_passwords_get_the_same_answer(app, deactivated, users):
    right = attempt(app, deactivated.email, PASSWORD, ip="198.51.100.41")
    wrong = attempt(app, deactivated.email, WRONG, ip="198.51.100.42")
    unknown = attempt(app, "nobody@example.test", WRONG, ip="198.51.100.43")
    assert right.status_code == wrong.status_code == unknown.status_code == 401
    assert alert(right) == alert(wrong) == alert(unknown) == "Email or password is incorrect."
    assert "deactivated" not in right.get_data(as_text=True).lower()


def test_the_right_password_of_a_deactivated_account_is_throttled_like_a_wrong_one(
    app, deactivated
):
    free = app.config["LOGIN_FREE_FAILURES"]
    answers = {}
    for password, ip in ((PASSWORD, "198.51.100.50"), (WRONG, "198.51.100.51")):
        answers[password] = [
            attempt(app, deactivated.email, password, ip).status_code for _ in range(free + 1)
        ]
    assert answers[PASSWORD] == answers[WRONG] == [401] * free + [429]


def test_the_admin_may_choose_to_tell_the_right_password(app, deactivated, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_TELL_DEACTIVATED", True)
    right = attempt(app, deactivated.email, PASSWORD)
    assert right.status_code == 401
    assert alert(right) == "This account is deactivated. Ask an administrator."
    wrong = attempt(app, deactivated.email, WRONG, ip="198.51.100.44")
    assert alert(wrong) == "Email or password is incorrect."


@pytest.mark.parametrize(("value", "tells"), [(None, False), ("1", True), ("off", False)])
def test_the_setting_comes_from_the_environment_and_is_off_by_default(monkeypatch, value, tells):
    if value is None:
        monkeypatch.delenv("FLIGHTDECK_LOGIN_TELL_DEACTIVATED", raising=False)
    else:
        monkeypatch.setenv("FLIGHTDECK_LOGIN_TELL_DEACTIVATED", value)
    assert config.TestConfig().LOGIN_TELL_DEACTIVATED is tells
