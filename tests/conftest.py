"""Fixture chain: database -> app -> client -> users.

The suite runs against TEST_DATABASE_URL: PostgreSQL (`make test-postgres`, a dedicated
database the fixtures create) or SQLite (`sqlite://` = a fresh file per run). The schema is
built by the real migrations, and every test starts from empty tables.
"""

from __future__ import annotations

import contextvars
import os
import shutil
import tempfile
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from config import TestConfig, normalise_database_url
from core.app import create_app
from core.extensions import db
from core.models import Role, User
from tests import factories

pytest_plugins = ["tests.browser_fixtures"]

PASSWORD = "correct horse battery staple"
REDIS_TEST_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _resolve_database_url(tmp_dir: str) -> str:
    raw = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    if raw.startswith("sqlite"):
        # A file, not :memory:, so live-server threads and worker processes share it.
        return f"sqlite:///{os.path.join(tmp_dir, 'flightdeck-test.db')}"
    url = normalise_database_url(raw)
    _ensure_postgres_database(url)
    return url


def _ensure_postgres_database(url: str) -> None:
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database}
            )
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    except Exception as exc:  # a clear message beats a stack of psycopg frames
        pytest.exit(f"PostgreSQL at {target.host}:{target.port} is not reachable: {exc}", 3)
    finally:
        admin.dispose()


def _reset_schema(url: str) -> None:
    if url.startswith("sqlite"):
        path = make_url(url).database
        if path and os.path.exists(path):
            os.remove(path)
        return
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="flightdeck-") as tmp:
        url = _resolve_database_url(tmp)
        os.environ["TEST_DATABASE_URL"] = url
        yield url


class IsolatedClient(FlaskClient):
    """Every request in its own app context, as on a server.

    The autouse fixture keeps an app context open for the whole test, and Flask would reuse it
    for requests: `g` (Flask-Login's user, the CSRF token) and the db session would then leak
    from one request, and one client, to the next.
    """

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


def make_app(database_url: str, **overrides) -> Flask:
    os.environ["TEST_DATABASE_URL"] = database_url
    config = type("SuiteConfig", (TestConfig,), overrides)
    application = create_app(config)
    application.test_client_class = IsolatedClient
    return application


@pytest.fixture(scope="session")
def app(database_url: str) -> Iterator[Flask]:
    from flask_migrate import upgrade

    _reset_schema(database_url)
    application = make_app(database_url)
    with application.app_context():
        upgrade()
    yield application
    with application.app_context():
        db.engine.dispose()
    shutil.rmtree(application.config["UPLOAD_DIR"], ignore_errors=True)


def truncate_all(application: Flask) -> None:
    with application.app_context():
        db.session.remove()
        existing = set(inspect(db.engine).get_table_names())
        tables = [t for t in reversed(db.metadata.sorted_tables) if t.name in existing]
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # TRUNCATE costs per table, so only the tables this test wrote to.
                probe = " UNION ALL ".join(
                    f"SELECT '{t.name}' WHERE EXISTS (SELECT 1 FROM \"{t.name}\")" for t in tables
                )
                dirty = [row[0] for row in conn.execute(text(probe))] if tables else []
                if dirty:
                    names = ", ".join(f'"{n}"' for n in dirty)
                    conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            else:
                for table in tables:
                    conn.execute(table.delete())
                has_seq = conn.execute(
                    text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'")
                ).scalar()
                if has_seq:
                    conn.execute(text("DELETE FROM sqlite_sequence"))


@pytest.fixture(autouse=True)
def _app_context(request, app: Flask) -> Iterator[None]:
    """Each test runs in an app context and leaves no rows behind."""
    with app.app_context():
        yield
        db.session.remove()
    truncate_all(app)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def users() -> dict[str, User]:
    """One active user per role, all with PASSWORD."""
    made = {
        role.value: factories.UserFactory(
            email=f"{role.value}@example.test", name=f"{role.value.title()} Tester", role=role.value
        )
        for role in Role
    }
    db.session.commit()
    return made


def login(client: FlaskClient, user: User | str, password: str = PASSWORD):
    email = user if isinstance(user, str) else user.email
    return client.post("/login", data={"email": email, "password": password})


@pytest.fixture
def login_as(client: FlaskClient, users: dict[str, User]):
    def _login(role: str) -> User:
        response = login(client, users[role])
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return users[role]

    return _login


@pytest.fixture
def redis_url() -> Iterator[str]:
    from redis import Redis
    from redis.exceptions import ConnectionError as RedisConnectionError

    conn = Redis.from_url(REDIS_TEST_URL)
    try:
        conn.flushdb()
    except RedisConnectionError as exc:
        pytest.fail(f"Redis at {REDIS_TEST_URL} is not reachable: {exc}")
    yield REDIS_TEST_URL
    conn.flushdb()
    conn.close()
