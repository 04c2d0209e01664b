"""Lock-and-refresh for money changes: two people acting on the same rows at the same instant.

A check on objects loaded before a lock is a check on stale data: the other transaction may
have committed in between. So every money change calls `lock(...)` first; it

- takes the rows' write locks until the transaction ends (PostgreSQL: SELECT … FOR UPDATE OF
  the model's own table, so joined eager loads of nullable relationships do not make the
  database refuse the lock; SQLite has no row locks and pysqlite opens no transaction for a
  SELECT, so a no-op UPDATE takes the database's write lock first and the busy timeout set in
  core/app.py makes the second writer wait for the first's commit);
- re-reads them (populate_existing), so the caller re-checks the state someone else may just
  have committed, and refuses a stale transition with a message from that state.

Rows are locked in one global order (`LOCK_ORDER`, then id) whatever order a caller names
them in, so two paths never wait on each other in a circle. Callers lock parents first in
one call: a budget, its campaigns, their lines, the request.

Lock what the change writes, or what its check must keep from moving; a parent that is only
read (a line's budget when approving it) comes fresh in the same statement (`read`), unlocked:
one round trip instead of one per row.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import inspect, select, update
from sqlalchemy.orm import MANYTOONE, joinedload, lazyload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql import ColumnElement

from core.extensions import db

T = TypeVar("T")

# Parents before children. Tables not named here come after, by name.
LOCK_ORDER = (
    "budgets",
    "campaigns",
    "budget_lines",
    "budget_reallocations",
    "partnerships",
    "payment_milestones",
)


def _rank(model: type) -> tuple[int, str]:
    name = model.__table__.name
    return (LOCK_ORDER.index(name) if name in LOCK_ORDER else len(LOCK_ORDER), name)


def _take_sqlite_write_lock(model: type, *criteria: ColumnElement[bool]) -> None:
    """Begin the write transaction now, before the re-read: a no-op UPDATE (every column with
    an onupdate set to itself, so `updated_at` does not move). SQLite takes its write lock when
    a write statement starts, whether or not a row matches."""
    table = model.__table__
    same = {c.name: c for c in table.c if c.primary_key or c.onupdate is not None}
    db.session.execute(update(table).where(*criteria).values(same))


def _is_sqlite() -> bool:
    return db.session.get_bind().dialect.name == "sqlite"


def _select_for_update(
    model: type[T], *criteria: ColumnElement[bool], read: Sequence[Any] = ()
) -> list[T]:
    (pk,) = inspect(model).primary_key
    stmt = (
        select(model)
        .where(*criteria)
        .order_by(pk)
        .with_for_update(of=model)
        .execution_options(populate_existing=True)
    )
    # Only the row itself and the parents asked for: the relationships it had loaded are
    # pointed back at the same objects afterwards (`_relink`), not read again.
    mine = [attr for attr in read if attr.class_ is model]
    stmt = stmt.options(lazyload("*"), *(joinedload(attr) for attr in mine))
    return list(db.session.scalars(stmt).unique())


def lock(*objects: Any, read: Sequence[Any] = ()) -> None:
    """Lock `objects` (loaded instances, None skipped) and re-read them in place.

    `read`: many-to-one relationships (`AllocationLine.budget`) re-read fresh, without a lock,
    in the same statement as the rows they hang from."""
    by_model: dict[type, set[Any]] = defaultdict(set)
    kept = []
    for obj in objects:
        if obj is not None and inspect(obj).identity is not None:
            by_model[type(obj)].add(inspect(obj).identity[0])
            kept.append((obj, _parents(obj)))
    if not by_model:
        return
    ordered = sorted(by_model, key=_rank)
    sqlite = _is_sqlite()
    for model in ordered:
        (pk,) = inspect(model).primary_key
        criteria = pk.in_(sorted(by_model[model]))
        if sqlite and model is ordered[0]:
            _take_sqlite_write_lock(model, criteria)
        _select_for_update(model, criteria, read=read)
    for obj, parents in kept:
        _relink(obj, parents)


def _parents(obj: Any) -> dict[str, tuple[Any, tuple[Any, ...]]]:
    """The many-to-one relationships loaded on `obj`, with the foreign key they follow."""
    state = inspect(obj)
    found = {}
    for rel in state.mapper.relationships:
        if rel.direction is MANYTOONE and rel.key not in state.unloaded:
            found[rel.key] = (state.dict.get(rel.key), _foreign_key(state, rel))
    return found


def _foreign_key(state: Any, rel: Any) -> tuple[Any, ...]:
    return tuple(
        state.dict.get(state.mapper.get_property_by_column(col).key) for col in rel.local_columns
    )


def _relink(obj: Any, parents: dict[str, tuple[Any, tuple[Any, ...]]]) -> None:
    """The re-read resets a lazy many-to-one (`line.budget`); point it back at the parent it
    still follows. Without this the parent, held only by the weak identity map, may be gone
    and would be loaded again on the next access."""
    state = inspect(obj)
    for key, (parent, foreign_key) in parents.items():
        rel = state.mapper.relationships[key]
        if key in state.unloaded and _foreign_key(state, rel) == foreign_key:
            set_committed_value(obj, key, parent)


def lock_where(model: type[T], *criteria: ColumnElement[bool]) -> list[T]:
    """Lock and (re-)read every row of `model` matching `criteria`, in id order.

    Rows that stop matching between the caller's read and the lock are not returned; rows that
    start matching are. Lock their parents first (see the module docstring).
    """
    if _is_sqlite():
        _take_sqlite_write_lock(model, *criteria)
    return _select_for_update(model, *criteria)


def when(moment: datetime | None) -> str:
    """'at 14:02 UTC' today, 'on 3 Dec 2026 at 14:02 UTC' before: for "Already done by X …"."""
    if moment is None:
        return "just now"
    moment = moment.astimezone(UTC)
    if moment.date() == datetime.now(UTC).date():
        return f"at {moment:%H:%M} UTC"
    return f"on {moment.day} {moment:%b %Y} at {moment:%H:%M} UTC"
