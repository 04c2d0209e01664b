"""A job's progress written beside its work: its own connection, committed at once.

An import writes its data in one transaction, so the state row it updates there stays
invisible until the end. `RowProgress` writes `progress` and `heartbeat_at` of the job's row
through a connection of its own, at most twice a second, so a page can follow the job while
its transaction is open. On PostgreSQL the job holds no lock on its state row (rows pointing
at it only share-lock its key), so the write goes through. SQLite has one writer: while the
job writes, the update gives up at once and the bar waits for the next chance (the end, at
the latest).
"""

from __future__ import annotations

import logging
import time

from sqlalchemy import Table, update
from sqlalchemy.exc import SQLAlchemyError

from core.extensions import db
from core.types import utcnow

log = logging.getLogger(__name__)


class RowProgress:
    """Callable with a percentage; writes it on row `row_id` of `table` while its status is
    `running` (a row closed meanwhile is left alone)."""

    INTERVAL = 0.5

    def __init__(self, table: Table, row_id: int, running: str = "running") -> None:
        self.table = table
        self.row_id = row_id
        self.running = running
        self.last = 0.0

    def __call__(self, percent: int) -> None:
        now = time.monotonic()
        if now - self.last < self.INTERVAL:
            return
        self.last = now
        table = self.table
        statement = (
            update(table)
            .where(table.c.id == self.row_id, table.c.status == self.running)
            .values(progress=min(max(int(percent), 0), 99), heartbeat_at=utcnow())
        )
        try:
            with db.engine.connect() as conn:
                if conn.dialect.name == "sqlite":
                    _try_once(conn, statement)
                else:
                    conn.execute(statement)
                    conn.commit()
        except SQLAlchemyError:
            log.debug("progress of %s %s not written this time", table.name, self.row_id)


def _try_once(conn, statement) -> None:
    """Run `statement` without waiting for SQLite's write lock, then restore the wait."""
    waited = conn.exec_driver_sql("PRAGMA busy_timeout").scalar()
    conn.exec_driver_sql("PRAGMA busy_timeout = 0")
    try:
        conn.execute(statement)
        conn.commit()
    except SQLAlchemyError:
        conn.rollback()
        raise
    finally:
        conn.exec_driver_sql(f"PRAGMA busy_timeout = {int(waited or 0)}")
