"""Security headers, same-host redirects, password hashing."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Flask, Response, abort, current_app, request

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)

NO_STORE_PREFIXES = ("/budgets", "/finance", "/admin", "/exports")


def register_input_guards(app: Flask) -> None:
    """Refuse NUL characters anywhere in the query or form: PostgreSQL text cannot hold them,
    so they would otherwise surface as a database error instead of a message."""

    @app.before_request
    def refuse_nul():
        values = [v for _, vs in (*request.args.lists(), *request.form.lists()) for v in vs]
        if any("\x00" in v for v in values) or "\x00" in request.path:
            abort(400, description="The request contains an invisible NUL character; remove it.")


def register_security_headers(app: Flask) -> None:
    @app.after_request
    def set_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers["Strict-Transport-Security"] = "max-age=31536000"
        if request.path.startswith(NO_STORE_PREFIXES):
            response.headers["Cache-Control"] = "no-store"
        return response


def safe_next(target: str | None) -> str | None:
    """Return `target` only if it is a path on this host; refuse everything else.

    Browsers treat `\\` like `/`, so `/\\evil.com` is protocol-relative too; `https:evil.com`
    has a scheme; control characters can smuggle either past a naive check.
    """
    if not target or len(target) > 2000:
        return None
    if any(ord(ch) < 32 or ch == "\\" for ch in target):
        return None
    if not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    # A proxy or a second decode could turn `/%5Cevil.com` or `/%2F/evil.com` into one of the
    # forms above: judge the decoded path by the same rules.
    path = unquote(parts.path)
    if path.startswith("//") or any(ord(ch) < 32 or ch == "\\" for ch in path):
        return None
    return target


def password_hasher() -> PasswordHasher:
    cfg = current_app.config
    return PasswordHasher(
        time_cost=cfg["ARGON2_TIME_COST"],
        memory_cost=cfg["ARGON2_MEMORY_COST"],
        parallelism=cfg["ARGON2_PARALLELISM"],
    )


def hash_password(password: str) -> str:
    return password_hasher().hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    if not stored:
        # Spend the same time as a real check so unknown emails are not revealed by timing.
        password_hasher().hash(password)
        return False
    try:
        return password_hasher().verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    try:
        return password_hasher().check_needs_rehash(stored)
    except InvalidHashError:
        return True
