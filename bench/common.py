"""Shared bench plumbing: a fresh PostgreSQL database built by the migrations, timing."""

from __future__ import annotations

import os
import platform
import subprocess
import time
from collections.abc import Callable
from contextlib import contextmanager

from sqlalchemy import create_engine, text

PG_SERVER = os.environ.get("BENCH_PG_SERVER_URL", "postgresql+psycopg://postgres@127.0.0.1:5432")


def fresh_database(name: str) -> str:
    admin = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"{PG_SERVER}/{name}"


def bench_app(url: str, **overrides):
    """The real app on `url`, schema built by the migrations."""
    from flask_migrate import upgrade

    from config import TestConfig
    from core.app import create_app

    os.environ["TEST_DATABASE_URL"] = url
    config = type("BenchConfig", (TestConfig,), overrides)
    app = create_app(config)
    with app.app_context():
        upgrade()
    return app


def best_of(runs: int, fn: Callable[[], object]) -> tuple[float, object]:
    """Best wall time of `runs` calls (less noise from the other core's work)."""
    best, result = float("inf"), None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


@contextmanager
def timer():
    box = {}
    start = time.perf_counter()
    yield box
    box["seconds"] = time.perf_counter() - start


def machine() -> str:
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as fh:
            kb = int(fh.readline().split()[1])
            mem = f"{kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError):
        pass
    pg = subprocess.run(
        ["psql", "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    return (
        f"{cpu}, {os.cpu_count()} cores, {mem}; Python {platform.python_version()}; "
        f"{pg or 'psql not found'} (server on 127.0.0.1)"
    )
