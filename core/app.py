"""The application factory."""

from __future__ import annotations

import logging
import os
from datetime import date, datetime
from decimal import Decimal

from flask import Flask, jsonify, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from config import BASE_DIR, Config, config_from_env
from core.extensions import csrf, db, login_manager, migrate
from core.money import Money
from core.security import register_input_guards, register_security_headers


def create_app(config_class: type[Config] | None = None) -> Flask:
    config = (config_class or config_from_env())()
    config.validate()
    app = Flask(
        "flightdeck",
        root_path=str(BASE_DIR),
        template_folder="templates",
        static_folder="static",
        instance_relative_config=True,
    )
    app.config.from_object(config)
    # Ids in URLs fit the database's INTEGER: a larger number is simply not found (404).
    app.url_map.converters["int"] = BoundedInt
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        os.makedirs(app.instance_path, exist_ok=True)
    register_logging(app)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    register_commands(app)
    register_security_headers(app)
    register_input_guards(app)
    return app


class BoundedInt(IntegerConverter):
    def __init__(self, map, *args, **kwargs) -> None:  # noqa: A002 - werkzeug's name
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def register_logging(app: Flask) -> None:
    if not app.debug and not app.testing:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s"
        )


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=str(app.root_path + "/migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    from core.models import User

    @login_manager.user_loader
    def load_user(token: str) -> User | None:
        user_id, _, session_token = token.partition(":")
        if not user_id.isdigit() or not session_token:
            return None
        user = db.session.get(User, int(user_id))
        # A deactivated user's session ends on their next request, however they were
        # deactivated (admin page, CLI, SQL).
        if user is None or not user.active or user.session_token != session_token:
            return None
        return user

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        @event.listens_for(Engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            if type(dbapi_conn).__module__.startswith("sqlite3"):
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA foreign_keys=ON")
                cur.execute("PRAGMA busy_timeout=10000")
                cur.close()


def register_blueprints(app: Flask) -> None:
    from ads.views import bp as ads_bp
    from analytics.views import bp as performance_bp
    from budgets.views import bp as budgets_bp
    from campaigns.views import bp as campaigns_bp
    from core import admin, dashboard
    from core.auth.views import bp as auth_bp
    from influencers.views import bp as influencers_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(campaigns_bp)
    app.register_blueprint(ads_bp)
    app.register_blueprint(performance_bp)
    app.register_blueprint(budgets_bp)
    app.register_blueprint(influencers_bp)

    @app.route("/healthz")
    def health():
        db.session.execute(select(1))
        return jsonify(status="ok")

    app.view_functions["health"] = health


def register_errorhandlers(app: Flask) -> None:
    def render_error(code: int, title: str, message: str):
        wants_json = request.accept_mimetypes.best == "application/json"
        if wants_json:
            return jsonify(error=title, message=message), code
        return render_template("errors/error.html", code=code, title=title, message=message), code

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        return render_error(
            400,
            "Form expired",
            "The form was open too long or came from elsewhere. Reload and retry.",
        )

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
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
        db.session.rollback()
        app.logger.warning("integrity conflict on %s %s", request.method, request.path)
        return render_error(
            409,
            "Changed by someone else",
            "Someone saved a conflicting change at the same moment. Reload and try again.",
        )

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        db.session.rollback()
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return render_error(
            500,
            "Something went wrong",
            "The error is logged and nothing was saved. Try again, or tell an administrator.",
        )


def register_template_helpers(app: Flask) -> None:
    from core.audit import shown_changes
    from core.models import Role
    from core.permissions import can

    def money(value: Money | None) -> str:
        return "—" if value is None else value.format()

    def fmt_date(value: date | datetime | None, fmt: str = "%d %b %Y") -> str:
        if value is None:
            return "—"
        return value.strftime(fmt)

    def money_minor(pair: tuple[int, str], money: bool = True) -> str:
        minor, currency = pair
        return Money(int(minor), currency).format() if money else f"{int(minor):,}"

    def money_amount(pair: tuple[Decimal | None, str]) -> str:
        """A ratio in major units (CPA, CPC, CPM, cost per engagement) shown as money."""
        value, currency = pair
        if value is None or value != value:  # None or NaN: no denominator
            return "—"
        return Money.of(value, currency, strict=False).format()

    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["money_amount"] = money_amount
    app.jinja_env.filters["money_minor"] = money_minor
    app.jinja_env.filters["date"] = fmt_date
    app.jinja_env.globals.update(can=can, Role=Role, audit_changes=shown_changes)

    @app.context_processor
    def inject_user():
        return {"current_user": current_user}


def register_commands(app: Flask) -> None:
    from core import cli

    cli.register(app)
