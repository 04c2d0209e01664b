"""Two people acting on the same money at the same instant, for real.

`race` runs each contender in its own thread, app context, session and database connection.
A contender first loads what it acts on (as a request does before anyone else commits) and
returns its action; all actions then start together (threading.Barrier). An action that
succeeds keeps its transaction open until the database shows another session waiting for a
lock (or 2 s pass) before it commits, so the other action meets the lock, not a transaction
that is already over: the race is certain, not a matter of timing.

`one_after_other` is the same two contenders on any database (SQLite too): both load, the first
acts and commits, then the second acts on what it loaded before.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from flask import Flask
from sqlalchemy import select, text

from core.extensions import db
from core.models import AuditEntry

Action = Callable[[], object]
Contender = Callable[[], Action]

SQLITE_REASON = (
    "SQLite lets one write transaction run at a time on the whole database file, so two "
    "sessions cannot race there; the one_after_other tests cover SQLite"
)


@dataclass
class Outcome:
    ok: bool
    message: str = ""
    crashed: bool = False
    waited: bool = False  # a winner that saw the other session wait for its lock


@pytest.fixture
def postgres_only() -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip(SQLITE_REASON)


def _someone_waits_for_a_lock(seconds: float = 2.0) -> bool:
    query = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
    )
    deadline = time.monotonic() + seconds
    with db.engine.connect() as conn:
        while time.monotonic() < deadline:
            if conn.execute(query).scalar():
                return True
            conn.rollback()
            time.sleep(0.005)
    return False


def race(app: Flask, *contenders: Contender) -> list[Outcome]:
    barrier = threading.Barrier(len(contenders))
    outcomes: list[Outcome | None] = [None] * len(contenders)

    def run(i: int, contender: Contender) -> None:
        with app.app_context():
            try:
                act = contender()
                barrier.wait(timeout=10)
                act()
                waited = _someone_waits_for_a_lock()
                db.session.commit()
                outcomes[i] = Outcome(True, waited=waited)
            except ValueError as exc:  # the services' refusals (RuleError) are ValueErrors
                db.session.rollback()
                outcomes[i] = Outcome(False, str(exc))
            except Exception as exc:  # noqa: BLE001 - reported by the test, not lost in a thread
                db.session.rollback()
                outcomes[i] = Outcome(False, repr(exc), crashed=True)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    done = [o for o in outcomes if o is not None]
    assert len(done) == len(contenders), "a contender never finished"
    assert not any(o.crashed for o in done), [o.message for o in done if o.crashed]
    db.session.expire_all()  # the test's own session reads what the contenders committed
    return done


def one_after_other(app: Flask, first: Contender, second: Contender) -> list[Outcome]:
    """Both load; `first` acts and commits; then `second` acts on what it loaded."""
    outcomes = []
    with app.app_context():
        act_second = second()
        with app.app_context():
            act_first = first()
            act_first()
            db.session.commit()
        outcomes.append(Outcome(True))
        try:
            act_second()
            db.session.commit()
            outcomes.append(Outcome(True))
        except ValueError as exc:
            db.session.rollback()
            outcomes.append(Outcome(False, str(exc)))
    db.session.expire_all()
    return outcomes


def winner_and_loser(outcomes: list[Outcome]) -> tuple[int, Outcome]:
    """The index of the one that went through, and the one that was refused."""
    assert sorted(o.ok for o in outcomes) == [False, True], outcomes
    won = next(i for i, o in enumerate(outcomes) if o.ok)
    assert outcomes[won].waited, "the loser never waited for the winner's lock: no real race"
    return won, outcomes[1 - won]


def audit_rows(obj_type: str, obj_id: int, key: str, after: object) -> list[AuditEntry]:
    """Audit entries of one object that set `key` to `after`."""
    entries = db.session.scalars(
        select(AuditEntry).where(
            AuditEntry.object_type == obj_type, AuditEntry.object_id == str(obj_id)
        )
    )
    return [e for e in entries if key in e.changes and e.changes[key][1] == after]
