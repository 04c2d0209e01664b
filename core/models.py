"""Core tables: users, sign-in attempts, the audit log."""

from __future__ import annotations

import secrets
from datetime import datetime
from enum import StrEnum
from typing import Any

from flask_login import UserMixin
from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.types import UTCDateTime, utcnow


class Role(StrEnum):
    ADMIN = "admin"
    MARKETER = "marketer"
    FINANCE = "finance"
    COORDINATOR = "coordinator"
    VIEWER = "viewer"

    @property
    def label(self) -> str:
        return {"coordinator": "Influencer coordinator"}.get(self.value, self.value.title())


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


def _new_session_token() -> str:
    return secrets.token_urlsafe(24)


class User(UserMixin, TimestampMixin, db.Model):
    __tablename__ = "users"
    __audited__ = True
    __audit_exclude__ = ("password_hash", "session_token", "last_login_at", "updated_at")

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(20), default=Role.VIEWER.value)
    active: Mapped[bool] = mapped_column(default=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # Part of the Flask-Login id: rotating it ends every session and remember-me cookie.
    session_token: Mapped[str] = mapped_column(String(64), default=_new_session_token)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def rotate_session_token(self) -> None:
        self.session_token = _new_session_token()

    @property
    def role_enum(self) -> Role:
        return Role(self.role)

    def __str__(self) -> str:
        return self.name or self.email


class LoginAttempt(db.Model):
    """Failed sign-ins, keyed by `ip:<addr>` and `email:<addr>`, for throttling."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_key_at", "key", "attempted_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(300))
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AuditEntry(db.Model):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_label: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(20))  # create | update | delete
    object_type: Mapped[str] = mapped_column(String(60))
    object_id: Mapped[str] = mapped_column(String(60))
    object_label: Mapped[str] = mapped_column(String(300), default="")
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    comment: Mapped[str | None] = mapped_column(Text)

    actor = db.relationship(User, lazy="joined")
