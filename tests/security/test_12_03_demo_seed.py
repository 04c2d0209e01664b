"""Issue 12.3: `demo seed` refuses the production configuration unless forced, and never
resets an existing account's password nor re-activates it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cryptography.fernet import Fernet
from flask import Flask
from sqlalchemy import func, select

from config import ProductionConfig
from core.app import create_app
from core.extensions import db
from core.models import User
from core.security import hash_password
from tests.conftest import login

DEMO_PASSWORD = "flightdeck-demo"
OWN_PASSWORD = "a password the admin chose herself"


@pytest.fixture
def production_app(app, database_url, monkeypatch) -> Iterator[Flask]:
    """The real ProductionConfig over the suite's database, as `flask --app wsgi` builds it."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SECRET_KEY", "production-test-secret-" + "x" * 32)
    monkeypatch.setenv("FLIGHTDECK_ENCRYPTION_KEY", Fernet.generate_key().decode())
    monkeypatch.delenv("REDIS_URL", raising=False)
    application = create_app(ProductionConfig)
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def invoke_in(application: Flask, *args: str):
    # The suite keeps its own app context open, and the CLI runner would reuse it.
    with application.app_context():
        return application.test_cli_runner().invoke(args=list(args))


def users_count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count(User.id)))


def test_production_refuses_demo_seed(production_app):
    result = invoke_in(production_app, "demo", "seed")
    assert result.exit_code != 0
    assert "Refusing to seed demo data under the production configuration" in result.output
    assert "--force-demo-in-production" in result.output
    assert users_count() == 0


def test_production_seeds_only_when_forced(production_app):
    result = invoke_in(production_app, "demo", "seed", "--force-demo-in-production")
    assert result.exit_code == 0, result.output
    assert users_count() == 5
    assert "production" in production_app.config["ENV_NAME"]


def run_seed(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    db.session.rollback()


def test_seeding_again_keeps_a_changed_password_and_a_deactivation(app, client):
    run_seed(app)
    admin = db.session.scalar(select(User).where(User.email == "admin@flightdeck.test"))
    admin.password_hash = hash_password(OWN_PASSWORD)
    viewer = db.session.scalar(select(User).where(User.email == "viewer@flightdeck.test"))
    viewer.active = False
    db.session.commit()

    run_seed(app)
    assert login(client, "admin@flightdeck.test", DEMO_PASSWORD).status_code == 401
    assert login(client, "admin@flightdeck.test", OWN_PASSWORD).status_code == 302
    client.post("/logout")
    viewer = db.session.scalar(select(User).where(User.email == "viewer@flightdeck.test"))
    assert viewer.active is False
    assert login(client, "viewer@flightdeck.test", DEMO_PASSWORD).status_code == 401


def test_an_account_that_existed_before_the_seed_keeps_its_password_and_role(app, client):
    existing = User(
        email="finance@flightdeck.test",
        name="Real Finance",
        role="viewer",
        password_hash=hash_password(OWN_PASSWORD),
    )
    db.session.add(existing)
    db.session.commit()
    run_seed(app)
    kept = db.session.scalar(select(User).where(User.email == "finance@flightdeck.test"))
    assert (kept.role, kept.name) == ("viewer", "Real Finance")
    assert login(client, "finance@flightdeck.test", DEMO_PASSWORD).status_code == 401
    assert login(client, "finance@flightdeck.test", OWN_PASSWORD).status_code == 302
