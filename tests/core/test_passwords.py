"""Password hashing strength, rehash on login, and no shortcut for unknown emails."""

from __future__ import annotations

import contextvars
from collections import Counter
from collections.abc import Iterator

import argon2
import pytest
from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient

from config import DevConfig, ProductionConfig
from core.app import create_app
from core.extensions import db
from core.models import User
from core.security import hash_password, verify_password
from tests.conftest import PASSWORD, login
from tests.factories import UserFactory

# OWASP Password Storage Cheat Sheet, argon2id minimum: m=19 MiB, t=2, p=1.
OWASP_MEMORY_KIB = 19 * 1024
OWASP_TIME_COST = 2


class IsolatedClient(FlaskClient):
    """Every request in its own app context, as on a server (see tests/core/test_auth.py)."""

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture(autouse=True)
def _isolated_requests(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app, "test_client_class", IsolatedClient)


@pytest.fixture(params=[ProductionConfig, DevConfig], ids=["production", "development"])
def real_config_app(request, monkeypatch, database_url: str) -> Iterator[Flask]:
    monkeypatch.setenv("SECRET_KEY", "a-long-random-production-secret-key-for-tests")
    monkeypatch.setenv("FLIGHTDECK_ENCRYPTION_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("DATABASE_URL", database_url)
    application = create_app(request.param)
    yield application
    with application.app_context():
        db.engine.dispose()


def test_default_hashes_are_argon2id_at_owasp_strength(real_config_app):
    with real_config_app.app_context():
        stored = hash_password(PASSWORD)
        assert verify_password(stored, PASSWORD)
        assert not verify_password(stored, PASSWORD + "x")
    params = argon2.extract_parameters(stored)
    assert params.type is argon2.Type.ID
    assert params.memory_cost >= OWASP_MEMORY_KIB
    assert params.time_cost >= OWASP_TIME_COST
    assert params.parallelism >= 1
    assert params.salt_len >= 16
    # Two hashes of one password differ (random salt).
    with real_config_app.app_context():
        assert hash_password(PASSWORD) != stored


def _weak_user(hasher: argon2.PasswordHasher) -> User:
    user = UserFactory(email="old@example.com", password_hash=hasher.hash(PASSWORD))
    db.session.commit()
    return user


def _stored_hash(user_id: int) -> str:
    db.session.expire_all()
    return db.session.get(User, user_id).password_hash


@pytest.mark.parametrize(
    "old_hasher",
    [
        argon2.PasswordHasher(time_cost=1, memory_cost=256, parallelism=1),
        argon2.PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1, type=argon2.Type.I),
    ],
    ids=["weaker-argon2id", "argon2i"],
)
def test_old_hash_is_upgraded_on_the_next_successful_login(client, app, old_hasher):
    user = _weak_user(old_hasher)
    old = user.password_hash

    failed = login(client, user, "not the password")
    assert failed.status_code == 401
    assert _stored_hash(user.id) == old  # a failed attempt changes nothing

    response = login(client, user)
    assert response.status_code == 302
    new = _stored_hash(user.id)
    assert new != old
    params = argon2.extract_parameters(new)
    assert params.type is argon2.Type.ID
    assert params.memory_cost == app.config["ARGON2_MEMORY_COST"]
    assert params.time_cost == app.config["ARGON2_TIME_COST"]
    assert argon2.PasswordHasher().verify(new, PASSWORD)

    # The upgraded hash still signs in, and is not rewritten again.
    client.post("/logout")
    assert login(client, user).status_code == 302
    assert _stored_hash(user.id) == new


def test_test_strength_hash_is_upgraded_to_production_strength(monkeypatch, database_url):
    user = _weak_user(argon2.PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    monkeypatch.setenv("SECRET_KEY", "a-long-random-production-secret-key-for-tests")
    monkeypatch.setenv("FLIGHTDECK_ENCRYPTION_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("DATABASE_URL", database_url)
    production = create_app(ProductionConfig)
    production.config["WTF_CSRF_ENABLED"] = False
    try:
        response = login(production.test_client(), user)
        assert response.status_code == 302
    finally:
        with production.app_context():
            db.engine.dispose()
    params = argon2.extract_parameters(_stored_hash(user.id))
    assert params.memory_cost >= OWASP_MEMORY_KIB
    assert params.time_cost >= OWASP_TIME_COST


@pytest.fixture
def argon2_calls(monkeypatch) -> Counter:
    """Count the argon2 computations (hash or verify) the app performs."""
    calls: Counter = Counter()
    real_hash, real_verify = argon2.PasswordHasher.hash, argon2.PasswordHasher.verify

    def counting_hash(self, password, *args, **kwargs):
        calls["hash"] += 1
        return real_hash(self, password, *args, **kwargs)

    def counting_verify(self, stored, password):
        calls["verify"] += 1
        return real_verify(self, stored, password)

    monkeypatch.setattr(argon2.PasswordHasher, "hash", counting_hash)
    monkeypatch.setattr(argon2.PasswordHasher, "verify", counting_verify)
    return calls


def test_unknown_email_costs_the_same_argon2_work_as_a_wrong_password(client, users, argon2_calls):
    known = login(client, users["marketer"], "not the password")
    assert known.status_code == 401
    known_work = sum(argon2_calls.values())
    assert known_work == 1

    argon2_calls.clear()
    unknown = login(client, "nobody-here@example.com", "not the password")
    assert unknown.status_code == 401
    assert "Email or password is incorrect." in unknown.get_data(as_text=True)
    assert sum(argon2_calls.values()) == known_work


def test_invited_user_without_password_costs_a_hash_too(client, argon2_calls):
    UserFactory(email="invited@example.com", password_hash=None)
    db.session.commit()
    response = login(client, "invited@example.com", PASSWORD)
    assert response.status_code == 401
    assert sum(argon2_calls.values()) == 1


def test_a_garbled_stored_hash_refuses_the_login_without_an_error(client):
    UserFactory(email="garbled@example.com", password_hash="not-an-argon2-hash")
    db.session.commit()
    response = login(client, "garbled@example.com", PASSWORD)
    assert response.status_code == 401
    assert "Email or password is incorrect." in response.get_data(as_text=True)
