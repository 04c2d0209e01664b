"""Error pages, including the ones that must render while PostgreSQL or Redis is down.

A normal error page extends base.html, which asks for the signed-in user (the user loader reads
the database) and the budget badge. When the database is unreachable that page cannot render, so
outages get a page rendered straight from the Jinja environment (no context processors, no
user, no database) with `503` and `Retry-After`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import suppress

from flask import Flask, Response, current_app, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException

from core.extensions import db

DATABASE_DOWN = (OperationalError, InterfaceError, PoolTimeoutError)
REDIS_DOWN = (RedisConnectionError, RedisTimeoutError)
# SQLite says "no such table" through OperationalError: a deployment without migrations is a
# bug to fix, not an outage to wait out.
SCHEMA_MISSING = ("no such table", "no such column")

OUTAGES = {
    "database": (
        "Database unavailable",
        "Flightdeck cannot reach its database right now. Nothing was saved; "
        "try again in a minute. If it lasts, tell an administrator.",
    ),
    "queue": (
        "Job queue unavailable",
        "Flightdeck cannot reach its job queue (Redis) right now, so syncs and imports cannot "
        "start. Try again in a minute; if it lasts, tell an administrator.",
    ),
}


def causes(exc: BaseException | None) -> Iterator[BaseException]:
    """The exception, what it wraps (Werkzeug's original_exception) and what caused it."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        original = getattr(exc, "original_exception", None)
        exc = original or exc.__cause__ or exc.__context__


def database_down(exc: BaseException | None) -> bool:
    for cause in causes(exc):
        if isinstance(cause, DATABASE_DOWN):
            return not any(text in str(cause) for text in SCHEMA_MISSING)
    return False


def redis_down(exc: BaseException | None) -> bool:
    return any(isinstance(cause, REDIS_DOWN) for cause in causes(exc))


def outage_of(exc: BaseException | None) -> str | None:
    if database_down(exc):
        return "database"
    if redis_down(exc):
        return "queue"
    return None


def first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def rollback_quietly() -> None:
    """Roll back the request's session; with the database gone, that may fail too."""
    with suppress(Exception):  # the connection is already lost; the pool discards it
        db.session.rollback()


def wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


def standalone_page(code: int, title: str, message: str) -> Response:
    """A page that needs nothing but Jinja: safe with the database or Redis down."""
    if wants_json():
        response = jsonify(error=title, message=message)
    else:
        template = current_app.jinja_env.get_template("errors/standalone.html")
        # A GET can simply be repeated; a form post is better re-sent from its page.
        retry_url = request.full_path.rstrip("?") if request.method == "GET" else None
        page = template.render(code=code, title=title, message=message, retry_url=retry_url)
        response = Response(page)
    response.status_code = code
    return response


def unavailable(what: str, exc: BaseException) -> Response:
    rollback_quietly()
    cause = next(c for c in causes(exc) if isinstance(c, DATABASE_DOWN + REDIS_DOWN))
    current_app.logger.warning(
        "%s unavailable on %s %s: %s", what, request.method, request.path, first_line(cause)
    )
    title, message = OUTAGES[what]
    response = None
    if what != "database" and not wants_json():
        # Only the queue is away: the app's own page, with its navigation, still renders.
        try:
            page = render_template("errors/error.html", code=503, title=title, message=message)
            response = Response(page, status=503)
        except Exception:  # noqa: S110 - the standalone page below needs nothing
            rollback_quietly()
    if response is None:
        response = standalone_page(503, title, message)
    response.headers["Retry-After"] = str(current_app.config.get("RETRY_AFTER_SECONDS", 30))
    response.headers["Cache-Control"] = "no-store"
    return response


def render_error(code: int, title: str, message: str):
    """The app's own error page, or the standalone one when the page cannot be drawn."""
    if wants_json():
        return jsonify(error=title, message=message), code
    try:
        return render_template("errors/error.html", code=code, title=title, message=message), code
    except Exception as exc:
        what = outage_of(exc)
        if what is not None:
            return unavailable(what, exc)
        rollback_quietly()
        current_app.logger.exception("the error page for %s failed to render", code)
        return standalone_page(code, title, message)


def register_errorhandlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        return render_error(
            400,
            "Form expired",
            "The form was open too long or came from elsewhere. Reload and retry.",
        )

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        # An exception in an after_request hook reaches here as a 500 wrapping it.
        what = outage_of(exc) if exc.code == 500 else None
        if what is not None:
            return unavailable(what, exc)
        titles = {403: "Not allowed", 404: "Not found", 405: "Not allowed here", 413: "Too large"}
        messages = {
            403: "Your role does not allow this. Ask an administrator if you need access.",
            404: "There is nothing at this address. It may have been removed.",
            413: f"The upload is larger than the {app.config['MAX_CONTENT_LENGTH'] // 1048576:,} "
            "MB a request may carry: export a shorter period, or split the file.",
        }
        code = exc.code or 500
        return render_error(code, titles.get(code, exc.name), messages.get(code, exc.description))

    @app.errorhandler(IntegrityError)
    def conflict(exc: IntegrityError):
        # Two people saving the same thing at once: the database kept the first.
        rollback_quietly()
        app.logger.warning("integrity conflict on %s %s", request.method, request.path)
        return render_error(
            409,
            "Changed by someone else",
            "Someone saved a conflicting change at the same moment. Reload and try again.",
        )

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        # Also reached for database and Redis errors raised anywhere in the request: the user
        # loader, a before_request hook, a template or a context processor.
        what = outage_of(exc)
        if what is not None:
            return unavailable(what, exc)
        rollback_quietly()
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return render_error(
            500,
            "Something went wrong",
            "The error is logged and nothing was saved. Try again, or tell an administrator.",
        )
