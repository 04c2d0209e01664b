"""User accounts: creation, sign-in with throttling, invitations."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select

from core.auth import throttle
from core.auth.policy import password_problem
from core.extensions import db
from core.models import Role, User
from core.security import hash_password, needs_rehash, verify_password
from core.types import utcnow

INVITE_MAX_AGE = 7 * 24 * 3600


class AccountError(ValueError):
    """A user-facing problem with an account operation."""


class PasswordRejected(AccountError):
    """The password breaks the policy (core/auth/policy.py); the message says why."""


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def check_password_strength(password: str, email: str = "", name: str = "") -> None:
    problem = password_problem(password, email, name)
    if problem:
        raise PasswordRejected(problem)


def create_user(email: str, name: str, role: str, password: str | None = None) -> User:
    email = normalise_email(email)
    if role not in {r.value for r in Role}:
        raise AccountError(f"Unknown role {role!r}; choose one of {', '.join(r for r in Role)}.")
    if find_user(email):
        raise AccountError(f"A user with email {email} already exists.")
    user = User(email=email, name=name.strip() or email.split("@")[0], role=role)
    if password is not None:  # None = invite; "" is a (too short) password, not an invite
        check_password_strength(password, user.email, user.name)
        user.password_hash = hash_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def set_password(user: User, password: str) -> None:
    check_password_strength(password, user.email, user.name)
    user.password_hash = hash_password(password)
    user.rotate_session_token()


# --- signing in ----------------------------------------------------------------------------

INCORRECT = "Email or password is incorrect."
DEACTIVATED = "This account is deactivated. Ask an administrator."


@dataclass(frozen=True)
class Refusal:
    """Why a sign-in was refused; `retry_after` (seconds) when the pair must wait."""

    message: str
    retry_after: int | None = None


def authenticate(email: str, password: str, ip: str) -> tuple[User | None, Refusal | None]:
    """Return (user, None) on success or (None, refusal). Commits nothing.

    A deactivated account answers like a wrong password and its attempts count as failures,
    so neither the message nor the throttling tells a guesser that the password was right.
    LOGIN_TELL_DEACTIVATED (off by default) lets the administrator say so to the right one.
    """
    wait = throttle.check(email, ip)
    if wait:
        return None, Refusal(wait.message, wait.seconds_left)
    user = find_user(email)
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.active:
        throttle.record_failure(email, ip)
        if ok and user is not None and current_app.config["LOGIN_TELL_DEACTIVATED"]:
            return None, Refusal(DEACTIVATED)
        return None, Refusal(INCORRECT)
    if needs_rehash(user.password_hash or ""):
        user.password_hash = hash_password(password)
    throttle.forget_pair(email, ip)
    user.last_login_at = utcnow()
    return user, None


# --- invitations --------------------------------------------------------------------------


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="invite")


def invite_token(user: User) -> str:
    # Binding the token to session_token makes it single-use: setting a password rotates it.
    return _serializer().dumps({"id": user.id, "t": user.session_token})


def user_from_invite(token: str) -> User | None:
    try:
        data = _serializer().loads(token, max_age=INVITE_MAX_AGE)
    except (BadSignature, SignatureExpired):
        return None
    user = db.session.get(User, data.get("id"))
    if user is None or user.session_token != data.get("t") or not user.active:
        return None
    return user
