"""The worker's reconciler hook: registered once, run in an app context with a commit, a
failing one logged without stopping the others, run periodically and whenever kicked."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from core import jobs
from core.extensions import db
from core.models import User
from core.reconcile import ReconcilerThread, run_reconcilers
from tests.core.outages import wait_until


@pytest.fixture(autouse=True)
def _own_registry(monkeypatch) -> Iterator[list]:
    registry: list = []
    monkeypatch.setattr(jobs, "RECONCILERS", registry)
    monkeypatch.setattr("core.reconcile.RECONCILERS", registry)
    yield registry


def users() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count(User.id)))


def test_registering_twice_registers_once_and_works_as_a_decorator(_own_registry):
    @jobs.register_reconciler
    def close_stale_runs() -> None:
        pass

    assert jobs.register_reconciler(close_stale_runs) is close_stale_runs
    assert _own_registry == [close_stale_runs]


def test_each_reconciler_commits_and_a_failing_one_does_not_stop_the_next(app, caplog, monkeypatch):
    # The suite's `alembic upgrade` (fileConfig) disables loggers that existed before it ran.
    monkeypatch.setattr(logging.getLogger("flightdeck.worker"), "disabled", False)

    def database_away() -> None:
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("refused"))

    def add_user() -> None:
        db.session.add(User(email="reconciled@example.test", name="R", role="viewer"))

    jobs.register_reconciler(database_away)
    jobs.register_reconciler(add_user)
    assert run_reconcilers(app) == 1
    assert users() == 1  # committed by run_reconcilers, seen from another session
    assert "database_away: database unavailable: refused" in caplog.text


def test_a_bug_in_a_reconciler_is_logged_with_its_traceback(app, caplog, monkeypatch):
    monkeypatch.setattr(logging.getLogger("flightdeck.worker"), "disabled", False)

    def bug() -> None:
        raise KeyError("done_through")

    jobs.register_reconciler(bug)
    assert run_reconcilers(app) == 0
    assert "bug failed" in caplog.text and "KeyError: 'done_through'" in caplog.text


def test_the_thread_runs_at_once_then_every_interval_and_when_kicked(app):
    calls: list[float] = []
    jobs.register_reconciler(lambda: calls.append(time.monotonic()))
    stop = threading.Event()
    periodic = ReconcilerThread(app, stop, interval=0.2)
    periodic.start()
    try:
        wait_until(lambda: len(calls) >= 3, 10, "three periodic runs")
    finally:
        stop.set()
        periodic.kick()
        periodic.join(5)

    calls.clear()
    stop = threading.Event()
    slow = ReconcilerThread(app, stop, interval=600)
    slow.start()
    try:
        wait_until(lambda: len(calls) == 1, 10, "the run on start")
        slow.kick()  # what the worker does when Redis answers again
        wait_until(lambda: len(calls) == 2, 10, "the run after a kick")
    finally:
        stop.set()
        slow.kick()
        slow.join(5)
    assert not slow.is_alive()
