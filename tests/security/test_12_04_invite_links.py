"""Issue 12.4: invitation links (and every link Flightdeck makes for outside) come from the
configured address, never from the request's Host header; https in production."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from cryptography.fernet import Fernet

import config
from tests.conftest import PASSWORD

EVIL = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}


def invite_link(response) -> str | None:
    match = re.search(r'value="([^"]*/invite/[^"]+)"', response.get_data(as_text=True))
    return match.group(1) if match else None


def new_invitation(client, email: str = "new.person@example.com"):
    return client.post(
        "/admin/users/new",
        data={"email": email, "name": "New Person", "role": "viewer"},
        headers=EVIL,
    )


@pytest.fixture
def admin_client(client, users):
    """An admin whose browser talks to Flightdeck under the forged Host (cookies follow it)."""
    response = client.post(
        "/login", data={"email": users["admin"].email, "password": PASSWORD}, headers=EVIL
    )
    assert response.status_code == 302
    return client


def test_a_forged_host_never_reaches_the_invitation_link(app, admin_client, users, monkeypatch):
    monkeypatch.setitem(app.config, "FLIGHTDECK_BASE_URL", "https://flightdeck.example.com")
    response = new_invitation(admin_client)
    assert response.status_code == 200
    link = invite_link(response)
    assert link and link.startswith("https://flightdeck.example.com/invite/"), link
    assert "evil" not in response.get_data(as_text=True)

    again = admin_client.post(f"/admin/users/{users['viewer'].id}/invite", headers=EVIL)
    link = invite_link(again)
    assert link and link.startswith("https://flightdeck.example.com/invite/"), link

    # The link is the real one: its path opens the invitation.
    assert admin_client.get(urlsplit(link).path, headers=EVIL).status_code == 200


def test_a_base_url_with_a_prefix_keeps_it(app, monkeypatch):
    from core.links import external_url

    monkeypatch.setitem(app.config, "FLIGHTDECK_BASE_URL", "https://corp.example.com/flightdeck/")
    with app.test_request_context("/admin/users", headers=EVIL):
        url = external_url("auth.accept_invite", token="abc")
    assert url == "https://corp.example.com/flightdeck/invite/abc"


def test_server_name_is_used_with_https_in_production(app, monkeypatch):
    from core.links import external_url

    monkeypatch.setitem(app.config, "FLIGHTDECK_BASE_URL", None)
    monkeypatch.setitem(app.config, "SERVER_NAME", "fd.example.com")
    monkeypatch.setitem(app.config, "PREFERRED_URL_SCHEME", "http")
    monkeypatch.setitem(app.config, "ENV_NAME", "production")
    with app.test_request_context("/", headers=EVIL):
        assert external_url("auth.accept_invite", token="t") == "https://fd.example.com/invite/t"


def test_without_a_configured_address_no_link_is_made(app, admin_client, monkeypatch):
    from core.links import NoPublicAddress, external_url

    monkeypatch.setitem(app.config, "FLIGHTDECK_BASE_URL", None)
    monkeypatch.setitem(app.config, "SERVER_NAME", None)
    with app.test_request_context("/", headers=EVIL), pytest.raises(NoPublicAddress):
        external_url("auth.accept_invite", token="t")
    response = new_invitation(admin_client, "later@example.com")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert invite_link(response) is None and "evil.example" not in text
    assert "Set FLIGHTDECK_BASE_URL" in text


@pytest.fixture
def production_env(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "s" * 48)
    monkeypatch.setenv("FLIGHTDECK_ENCRYPTION_KEY", Fernet.generate_key().decode())


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://flightdeck.example.com", "must start with https://"),
        ("https://admin:pw@flightdeck.example.com", "no user name"),
        ("flightdeck.example.com", "must be a full URL"),
    ],
)
def test_production_refuses_a_base_url_that_is_not_plain_https(
    production_env, monkeypatch, url, problem
):
    monkeypatch.setenv("FLIGHTDECK_BASE_URL", url)
    with pytest.raises(config.ConfigError, match=problem):
        config.ProductionConfig().validate()


def test_production_accepts_an_https_base_url(production_env, monkeypatch):
    monkeypatch.setenv("FLIGHTDECK_BASE_URL", "https://flightdeck.example.com")
    cfg = config.ProductionConfig()
    cfg.validate()
    assert cfg.FLIGHTDECK_BASE_URL == "https://flightdeck.example.com"
