"""Migrations build the schema from zero, agree with the models, and have one head."""

from __future__ import annotations

import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from config import BASE_DIR
from core.extensions import db
from tests.conftest import make_app

PG_SERVER = os.environ.get("TEST_PG_SERVER_URL", "postgresql+psycopg://postgres@127.0.0.1:5432")


def _fresh_postgres(name: str) -> str:
    admin = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"{PG_SERVER}/{name}"


def _migration_database(suite_url: str) -> str:
    # Named after the suite's own database, so two suites on one server never share it.
    if suite_url.startswith("postgresql"):
        return f"{make_url(suite_url).database}_migrations"
    return "flightdeck_migrations"


@pytest.fixture(params=["postgresql", "sqlite"])
def empty_database(request, tmp_path, database_url):
    if request.param == "postgresql":
        url = _fresh_postgres(_migration_database(database_url))
    else:
        url = f"sqlite:///{tmp_path / 'migrations.db'}"
    yield url
    os.environ["TEST_DATABASE_URL"] = database_url  # give the suite its database back


def test_one_head():
    cfg = AlembicConfig(str(BASE_DIR / "migrations" / "alembic.ini"))
    cfg.set_main_option("script_location", str(BASE_DIR / "migrations"))
    heads = ScriptDirectory.from_config(cfg).get_heads()
    assert len(heads) == 1, f"migrations have {len(heads)} heads: {heads}"


def test_upgrade_from_zero_matches_models(empty_database):
    app = make_app(empty_database)
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            ctx = MigrationContext.configure(
                conn, opts={"compare_type": True, "compare_server_default": False}
            )
            diff = compare_metadata(ctx, db.metadata)
        assert diff == [], f"models and migrations disagree: {diff}"
        tables = set(inspect(db.engine).get_table_names())
        assert set(db.metadata.tables) <= tables
        # and the whole chain goes down and up again
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        db.engine.dispose()
    if empty_database.startswith("postgresql"):
        assert make_url(empty_database).database.endswith("_migrations")
