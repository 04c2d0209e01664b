"""Audit log: every create/update/delete of an audited model records who, when and what.

Models opt in with `__audited__ = True` (and `__audit_exclude__` for secrets and noise).
A session `after_flush` hook writes the entries in the same transaction as the change,
so an audit row exists exactly when the change does.
"""

from __future__ import annotations

import contextlib
import contextvars
import enum
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import has_request_context
from sqlalchemy import event, insert, inspect, select
from sqlalchemy.orm import Session

from core.extensions import db
from core.models import AuditEntry
from core.money import Money, MoneyError
from core.types import utcnow

_actor: contextvars.ContextVar[tuple[int | None, str] | None] = contextvars.ContextVar(
    "audit_actor", default=None
)
_comment: contextvars.ContextVar[str | None] = contextvars.ContextVar("audit_comment", default=None)

NOISE = frozenset({"created_at", "updated_at"})


@contextlib.contextmanager
def acting_as(label: str, user_id: int | None = None) -> Iterator[None]:
    """Attribute changes made outside a request (CLI, jobs) to `label`."""
    token = _actor.set((user_id, label))
    try:
        yield
    finally:
        _actor.reset(token)


@contextlib.contextmanager
def audit_comment(text: str | None) -> Iterator[None]:
    """Attach a comment (e.g. a rejection reason) to the entries written inside."""
    token = _comment.set(text)
    try:
        yield
    finally:
        _comment.reset(token)


def _current_actor() -> tuple[int | None, str]:
    explicit = _actor.get()
    if explicit is not None:
        return explicit
    if has_request_context():
        from flask_login import current_user

        if current_user and current_user.is_authenticated:
            return current_user.id, current_user.email
        return None, "anonymous"
    return None, "system"


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return "<binary>"
    return value


def _label(obj: Any) -> str:
    try:
        return str(obj)[:300]
    except Exception:  # noqa: BLE001 - a broken __str__ must not block a write
        return ""


def _columns(obj: Any) -> list[str]:
    exclude = set(getattr(obj, "__audit_exclude__", ())) | NOISE
    return [a.key for a in inspect(obj).mapper.column_attrs if a.key not in exclude]


def _snapshot(obj: Any) -> dict[str, Any]:
    return {key: _plain(getattr(obj, key)) for key in _columns(obj)}


def _diff(obj: Any) -> dict[str, list[Any]]:
    state = inspect(obj)
    changes: dict[str, list[Any]] = {}
    for key in _columns(obj):
        hist = state.attrs[key].history
        if not hist.has_changes():
            continue
        before = hist.deleted[0] if hist.deleted else None
        after = hist.added[0] if hist.added else None
        if _plain(before) != _plain(after):
            changes[key] = [_plain(before), _plain(after)]
    return changes


def _audited(obj: Any) -> bool:
    return bool(getattr(type(obj), "__audited__", False))


def _object_id(obj: Any) -> str:
    # New rows have their primary key after the INSERT but no identity key until the flush
    # ends, so read the key columns from the instance itself.
    state = inspect(obj)
    identity = state.identity or state.mapper.primary_key_from_instance(obj)
    if not identity or any(part is None for part in identity):
        return "?"
    return ",".join(str(part) for part in identity)


@event.listens_for(Session, "after_flush")
def _record(session: Session, flush_context: Any) -> None:
    rows: list[dict[str, Any]] = []
    actor_id, actor_label = _current_actor()
    comment = _comment.get()
    now = utcnow()

    def add(obj: Any, action: str, changes: dict[str, Any]) -> None:
        rows.append(
            {
                "at": now,
                "actor_id": actor_id,
                "actor_label": actor_label,
                "action": action,
                "object_type": type(obj).__name__,
                "object_id": _object_id(obj),
                "object_label": _label(obj),
                "changes": changes,
                "comment": comment,
            }
        )

    for obj in session.new:
        if _audited(obj):
            add(obj, "create", {k: [None, v] for k, v in _snapshot(obj).items() if v is not None})
    for obj in session.dirty:
        if _audited(obj) and session.is_modified(obj, include_collections=False):
            changes = _diff(obj)
            if changes:
                add(obj, "update", changes)
    for obj in session.deleted:
        if _audited(obj):
            add(obj, "delete", {k: [v, None] for k, v in _snapshot(obj).items() if v is not None})
    if rows:
        session.connection().execute(insert(AuditEntry.__table__), rows)


def history_for(obj: Any, limit: int = 200) -> list[AuditEntry]:
    stmt = (
        select(AuditEntry)
        .where(AuditEntry.object_type == type(obj).__name__)
        .where(AuditEntry.object_id == _object_id(obj))
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


def last_change(obj: Any, key: str) -> AuditEntry | None:
    """The latest audit entry that changed `key` of `obj` (who set a status, and when)."""
    return next((e for e in history_for(obj, limit=50) if key in e.changes), None)


def _entry_currency(entry: AuditEntry) -> str | None:
    """The currency an entry's minor-unit amounts are in: recorded with them, else the
    object's own (an update of a fee does not repeat the unchanged currency)."""
    recorded = entry.changes.get("currency") or [None, None]
    if recorded[1] or recorded[0]:
        return recorded[1] or recorded[0]
    for mapper in db.Model.registry.mappers:
        if mapper.class_.__name__ == entry.object_type and entry.object_id.isdigit():
            obj = db.session.get(mapper.class_, int(entry.object_id))
            currency = getattr(obj, "currency", None)
            return currency if isinstance(currency, str) else None
    return None


def shown_changes(entry: AuditEntry) -> list[tuple[str, str, str]]:
    """(field, before, after) as people read them: amounts in minor units as money, shares
    in basis points as per cent, a blank as ∅; a create lists only the fields it set."""
    currency: list[str | None] = []

    def shown(key: str, value: Any) -> str:
        if value is None or value == "":
            return "∅"
        if key.endswith("_minor") and isinstance(value, int):
            if not currency:
                currency.append(_entry_currency(entry))
            try:
                return Money(value, currency[0] or "").format()
            except MoneyError:
                return f"{value:,}"
        if key.endswith("_bp") and isinstance(value, int):
            return f"{value / 100:g} %"
        return str(value)

    rows = []
    for key, (before, after) in entry.changes.items():
        if entry.action == "create" and (after is None or after == ""):
            continue
        rows.append((key, shown(key, before), shown(key, after)))
    return rows
